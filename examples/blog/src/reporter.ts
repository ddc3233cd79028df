/**
 * What a build prints. On a terminal: a progress bar redrawn in place, with
 * warnings above it. Otherwise: one plain line per document rendered (a miss;
 * hits too with `verbose`), and the warnings. Always: one summary line.
 */
import { formatMs } from "@sitecache/core"
import type { VFile } from "vfile"

export type VFileMessage = VFile["messages"][number]

export interface DocumentEvent {
  /** Project-relative source path. */
  readonly source: string
  readonly hit: boolean
  readonly ms: number
  readonly messages: readonly VFileMessage[]
}

export interface Reporter {
  start(total: number): void
  document(event: DocumentEvent): void
  /** A line of its own (watch mode news, notices). */
  line(text: string): void
  end(summary: string): void
}

/** Format one message like a linter does: `content/a.md:3:1-3:12  warning  Reason  rule  source`. */
export function formatMessage(source: string, message: VFileMessage): string {
  const place = message.place
  const at =
    place === undefined
      ? ""
      : "start" in place
        ? `:${place.start.line}:${place.start.column}-${place.end.line}:${place.end.column}`
        : `:${place.line}:${place.column}`
  const level = message.fatal === true ? "error" : message.fatal === false ? "warning" : "info"
  const origin = [message.ruleId, message.source].filter(Boolean).join("  ")
  return `${source}${at}  ${level}  ${message.reason}${origin ? `  ${origin}` : ""}`
}

export function silentReporter(): Reporter {
  return { start() {}, document() {}, line() {}, end() {} }
}

export function plainReporter(options: { verbose?: boolean; write?: (text: string) => void } = {}): Reporter {
  const write = options.write ?? ((text: string) => process.stderr.write(`${text}\n`))
  return {
    start() {},
    document(event) {
      if (!event.hit) write(`rendered ${event.source} (${formatMs(event.ms)})`)
      else if (options.verbose) write(`cached   ${event.source}`)
      for (const message of event.messages) write(formatMessage(event.source, message))
    },
    line: write,
    end(summary) {
      write(summary)
    },
  }
}

/** A progress bar on `stream` (a TTY), redrawn at most every 50 ms. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
  let total = 0
  let done = 0
  let hits = 0
  let lastDraw = 0
  let current = ""
  const clear = () => stream.write("\r\x1b[2K")
  const draw = (force = false) => {
    const now = performance.now()
    if (!force && now - lastDraw < 50) return
    lastDraw = now
    const width = 24
    const filled = total === 0 ? width : Math.round((done / total) * width)
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`
    const head = `${bar} ${done}/${total} (${hits} cached) `
    // Keep the end of the path (the file name) when the line is too long for the terminal.
    const room = Math.max(10, (stream.columns || 80) - 1 - head.length)
    const path = current.length > room ? `…${current.slice(current.length - room + 1)}` : current
    clear()
    stream.write(head + path)
  }
  return {
    start(count) {
      total = count
      done = 0
      hits = 0
      draw(true)
    },
    document(event) {
      done++
      if (event.hit) hits++
      current = event.source
      if (event.messages.length > 0) {
        clear()
        for (const message of event.messages) stream.write(`${formatMessage(event.source, message)}\n`)
      }
      draw(done === total)
    },
    line(text) {
      clear()
      stream.write(`${text}\n`)
    },
    end(summary) {
      clear()
      stream.write(`${summary}\n`)
    },
  }
}

/** A progress bar on a terminal, plain lines otherwise. */
export function defaultReporter(options: { verbose?: boolean; quiet?: boolean } = {}): Reporter {
  if (options.quiet) {
    return { ...silentReporter(), end: (summary) => process.stderr.write(`${summary}\n`) }
  }
  return process.stderr.isTTY && !options.verbose ? progressReporter() : plainReporter(options)
}
