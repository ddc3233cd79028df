/**
 * What the site suite renders with, beside the example blog's own pipeline
 * (`examples/blog/src/pipeline.ts`: remark-parse, front matter, remark-gfm,
 * includes, remark-rehype, rehype-slug, rehype-autolink-headings,
 * rehype-highlight, links, layout, rehype-stringify), which renders the real
 * corpus:
 *
 * - `cheapProcessor()`: a unified processor with a tiny hand-written parser
 *   and compiler, a few µs per document, for the synthetic sites: there the
 *   question is what the cache costs per document as the site grows, so the
 *   render is kept out of the way on purpose.
 * - `recordingProcessor(real, recording)`: `real`, keeping what each file
 *   became (value, data, declared dependencies, messages).
 * - `replayProcessor(real, recording)`: the attachers of `real` (so the same
 *   fingerprint, the same keys) but `process` restores the recorded result.
 *   Cold builds of the real corpus use it, so that they measure the cache's
 *   miss path (lookup, encode, write) instead of rendering the corpus again
 *   for every configuration: rendering is the same work whatever the cache,
 *   and the uncached baseline measures it.
 */
import { createRequire } from "node:module"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { type CachedProcessor, dependenciesOf, dependOn, type ProcessorLike } from "@sitecache/unified"
import { BLOG_PACKAGE_ROOT } from "example-blog"

/** The unified plugins resolve from the example blog, which declares them. */
const requireFromBlog = createRequire(join(BLOG_PACKAGE_ROOT, "package.json"))

/** unified's VFile (the test package reaches it through the adapter's types). */
export type VFile = Awaited<ReturnType<CachedProcessor["process"]>>

/** What processing one file left on it. */
export interface RecordedRender {
  readonly value: string
  readonly data: Record<string, unknown>
  /** Declared dependencies (absolute paths). */
  readonly dependencies: readonly string[]
  readonly messages: readonly { reason: string; ruleId?: string; source?: string }[]
}

export type Recording = Map<string, RecordedRender>

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"))
}

/** Parser: the whole text in one node; the compiler does the rest. */
function cheapParse(this: { parser?: unknown }) {
  this.parser = (text: string) => ({ type: "root", children: [], value: text })
}

/** Front matter (`key: value` lines), `#` headings and paragraphs; sets `title`, `description`, `matter`. */
function cheapCompile(this: { compiler?: unknown }) {
  this.compiler = (tree: { value: string }, file: VFile) => {
    let text = tree.value
    const matter: Record<string, string> = {}
    if (text.startsWith("---\n")) {
      const end = text.indexOf("\n---\n", 4)
      if (end > 0) {
        for (const line of text.slice(4, end).split("\n")) {
          const colon = line.indexOf(":")
          if (colon > 0) matter[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
        }
        text = text.slice(end + 5)
      }
    }
    let html = ""
    let description: string | undefined
    for (const block of text.split("\n\n")) {
      if (block === "") continue
      const heading = /^(#{1,6}) (.*)$/.exec(block)
      if (heading) {
        const level = (heading[1] as string).length
        html += `<h${level}>${escapeHtml(heading[2] as string)}</h${level}>\n`
      } else {
        description ??= block.slice(0, 200)
        html += `<p>${escapeHtml(block)}</p>\n`
      }
    }
    file.data.matter = matter
    file.data.title = matter.title ?? file.stem ?? "Untitled"
    file.data.description = description ?? ""
    return `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${escapeHtml(String(file.data.title))}</title></head>\n<body>\n<main>\n${html}</main>\n</body>\n</html>\n`
  }
}

export async function cheapProcessor(): Promise<ProcessorLike> {
  const { unified } = (await import(pathToFileURL(requireFromBlog.resolve("unified")).href)) as {
    unified: () => { use(plugin: unknown): { use(plugin: unknown): ProcessorLike } }
  }
  return unified().use(cheapParse).use(cheapCompile)
}

function snapshot(file: VFile): RecordedRender {
  return {
    value: String(file.value),
    data: structuredClone(file.data) as Record<string, unknown>,
    dependencies: dependenciesOf(file),
    messages: file.messages.map((message) => ({
      reason: message.reason,
      ...(message.ruleId ? { ruleId: message.ruleId } : {}),
      ...(message.source ? { source: message.source } : {}),
    })),
  }
}

/** A processor like `real` that keeps what each file became in `recording` (by `file.path`). */
export function recordingProcessor(real: ProcessorLike, recording: Recording): ProcessorLike {
  return facade(real, async (file) => {
    await real.process(file)
    recording.set(file.path, snapshot(file))
  })
}

/**
 * A processor with the attachers of `real` (hence its fingerprint) whose
 * `process(file)` restores the recorded result for `file.path` instead of
 * rendering.
 */
export function replayProcessor(real: ProcessorLike, recording: ReadonlyMap<string, RecordedRender>): ProcessorLike {
  return facade(real, async (file) => {
    const recorded = recording.get(file.path)
    if (recorded === undefined) throw new Error(`replayProcessor: nothing recorded for ${file.path}`)
    file.value = recorded.value
    Object.assign(file.data, structuredClone(recorded.data))
    for (const path of recorded.dependencies) dependOn(file, path)
    for (const message of recorded.messages) {
      file.message(message.reason, {
        ...(message.ruleId === undefined ? {} : { ruleId: message.ruleId }),
        ...(message.source === undefined ? {} : { source: message.source }),
      })
    }
  })
}

function facade(real: ProcessorLike, process: (file: VFile) => Promise<void>): ProcessorLike {
  const refuse = (operation: string) => () => {
    throw new Error(`bench processor: cannot \`${operation}\``)
  }
  return {
    attachers: real.attachers,
    data: ((...args: [string, unknown?]) =>
      args.length === 1 ? real.data(args[0]) : real.data(args[0], args[1])) as ProcessorLike["data"],
    use: refuse("use"),
    freeze: () => undefined,
    parse: refuse("parse"),
    run: refuse("run"),
    async process(file) {
      await process(file)
      return file
    },
  }
}
