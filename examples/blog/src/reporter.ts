/**
 * What a build prints. On a terminal: a progress bar redrawn in place.
 * Otherwise: one plain line per document rendered (a miss; hits too with
 * `verbose`). Then the documents' messages (lint warnings), reported by
 * `vfile-reporter` as every unified tool reports them, and one summary line.
 */
import { formatMs } from "@sitecache/core"
import { VFile } from "vfile"
import { reporter as vfileReporter } from "vfile-reporter"

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

/**
 * The messages of `documents` as `vfile-reporter` reports them (a file's
 * path, then a line per message: place, level, reason, rule, source; then the
 * totals), or `""` when there are none.
 */
export function reportMessages(
  documents: readonly Pick<DocumentEvent, "source" | "messages">[],
  options: { color?: boolean } = {},
): string {
  const files = documents
    .filter((document) => document.messages.length > 0)
    .map((document) => {
      const file = new VFile({ path: document.source })
      file.messages.push(...document.messages)
      return file
    })
  return files.length === 0 ? "" : vfileReporter(files, { ...(options.color === undefined ? {} : { color: options.color }) })
}

/** Collects the documents with messages until the next `flush`. */
function messageCollector(): { add(event: DocumentEvent): void; flush(write: (text: string) => void): void } {
  let pending: DocumentEvent[] = []
  return {
    add(event) {
      if (event.messages.length > 0) pending.push(event)
    },
    flush(write) {
      const report = reportMessages(pending)
      pending = []
      if (report !== "") write(report)
    },
  }
}

export function silentReporter(): Reporter {
  return { start() {}, document() {}, line() {}, end() {} }
}

export function plainReporter(options: { verbose?: boolean; write?: (text: string) => void } = {}): Reporter {
  const write = options.write ?? ((text: string) => process.stderr.write(`${text}\n`))
  const messages = messageCollector()
  return {
    start() {},
    document(event) {
      if (!event.hit) write(`rendered ${event.source} (${formatMs(event.ms)})`)
      else if (options.verbose) write(`cached   ${event.source}`)
      messages.add(event)
    },
    line(text) {
      messages.flush(write)
      write(text)
    },
    end(summary) {
      messages.flush(write)
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
  const messages = messageCollector()
  const write = (text: string) => stream.write(`${text}\n`)
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
      messages.add(event)
      draw(done === total)
    },
    line(text) {
      clear()
      messages.flush(write)
      write(text)
    },
    end(summary) {
      clear()
      messages.flush(write)
      write(summary)
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
