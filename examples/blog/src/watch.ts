/**
 * Watch mode: build once, then rebuild only what a change touches. A
 * changed document is rendered again; a changed layout or partial renders
 * again exactly the documents that declared it (their recorded
 * dependencies), each of which misses in the cache because the dependency's
 * hash changed, while every other document is left alone.
 */
import { EventEmitter } from "node:events"
import { readFile, rm } from "node:fs/promises"
import { extname, isAbsolute, relative, resolve } from "node:path"
import type { BuildStats, Cache } from "@sitecache/core"
import { contentHash, FileHasher } from "@sitecache/core"
import type { PackageResolver } from "@sitecache/unified"
import { type BuildResult, blogSession, build, type DocumentResult, projectPath, writeSiteFiles } from "./build.js"
import type { Site } from "./config.js"
import { type Reporter, silentReporter } from "./reporter.js"

/** One rebuild after changes on disk. */
export interface RebuildEvent {
  /** Project-relative paths that changed. */
  readonly changed: readonly string[]
  /** Documents rendered again (project-relative sources), sorted. */
  readonly rebuilt: readonly string[]
  /** Those of them that missed in the cache. */
  readonly misses: readonly string[]
  /** Documents whose source was removed. */
  readonly removed: readonly string[]
  readonly documents: readonly DocumentResult[]
  readonly stats: BuildStats
}

export interface Watcher {
  /** The first build. */
  readonly initial: BuildResult
  /** The next rebuild (queued: rebuilds that happened before the call come first); rejects when a rebuild failed. */
  next(): Promise<RebuildEvent>
  /** `rebuild` (RebuildEvent) and `error` (Error) events. */
  readonly events: EventEmitter
  close(): Promise<void>
}

export interface WatchOptions {
  readonly cache?: Cache
  readonly reporter?: Reporter
  readonly resolver?: PackageResolver
  /** Changes closer together than this are one rebuild. Default 40 ms. */
  readonly debounceMs?: number
}

export async function watch(site: Site, options: WatchOptions = {}): Promise<Watcher> {
  const reporter = options.reporter ?? silentReporter()
  // Per build: every build refreshes it and every change reported invalidates its file, so lookups need no
  // `stat`, and `effective` below compares a change against the hash the last build saw.
  const files = new FileHasher({ root: site.root, recheck: "per-build" })
  // The cache stays open from the first build until `close()`.
  const session = blogSession(site, { files, keepOpen: true, ...(options.cache === undefined ? {} : { cache: options.cache }) })
  const initial = await build(site, {
    session,
    reporter,
    ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
  }).catch(async (error: unknown) => {
    await session.close()
    throw error
  })
  const { renderer } = initial
  const documents = new Map(initial.documents.map((document) => [document.file, document]))
  const events = new EventEmitter()
  // Rebuilds and failures, in order, for `next()`.
  const queue: (RebuildEvent | Error)[] = []
  const waiting: { resolve: (event: RebuildEvent) => void; reject: (error: Error) => void }[] = []
  const deliver = (item: RebuildEvent | Error) => {
    const waiter = waiting.shift()
    if (waiter === undefined) queue.push(item)
    else if (item instanceof Error) waiter.reject(item)
    else waiter.resolve(item)
  }
  events.on("rebuild", (event: RebuildEvent) => deliver(event))
  events.on("error", (error: unknown) => deliver(error instanceof Error ? error : new Error(String(error))))

  const { watch: chokidarWatch } = await import("chokidar")
  const outDir = resolve(site.outDir)
  const watcher = chokidarWatch([site.contentDir, site.layoutsDir, site.partialsDir, site.assetsDir], {
    ignoreInitial: true,
    // The output directory may sit inside a watched one: never react to our own writes.
    ignored: (path: string) => {
      const rel = relative(outDir, resolve(path))
      return rel === "" || !(rel.startsWith("..") || isAbsolute(rel))
    },
  })
  await new Promise<void>((ready, fail) => {
    watcher.once("ready", () => ready())
    watcher.once("error", (error) => fail(error))
  })

  const pending = new Map<string, "add" | "change" | "unlink">()
  let timer: NodeJS.Timeout | undefined
  let running = Promise.resolve()
  const isDocument = (path: string) => {
    const rel = relative(site.contentDir, path)
    return !rel.startsWith("..") && /^\.(md|markdown)$/i.test(extname(path))
  }

  /** Drop changes that changed nothing (editors and file systems may report one write twice). */
  const effective = async (changes: Map<string, "add" | "change" | "unlink">) => {
    const kept = new Map<string, "add" | "change" | "unlink">()
    for (const [path, kind] of changes) {
      if (kind === "change") {
        const known = documents.get(path)
        if (known !== undefined) {
          const text = await readFile(path, "utf8").catch(() => undefined)
          if (text !== undefined && contentHash(text) === known.sourceHash) continue
        } else if (isDocument(path)) {
          // A document this build has not seen (its creation reported as a change): new.
          kept.set(path, "add")
          continue
        } else if (relative(site.assetsDir, path).startsWith("..")) {
          const before = await files.hash(path)
          files.invalidate(path)
          if ((await files.hash(path)) === before) continue
        }
      }
      kept.set(path, kind)
    }
    return kept
  }

  const rebuild = async (reported: Map<string, "add" | "change" | "unlink">): Promise<void> => {
    const changes = await effective(reported)
    if (changes.size === 0) return
    // Each rebuild is a build of the session: recorded (what it rendered, the rest of the last manifest kept), so
    // `sitecache explain` speaks of the last edit.
    const { stats } = await session.start()
    const removed: string[] = []
    const rendered: DocumentResult[] = []
    try {
      const targets = new Set<string>()
      for (const [path, kind] of changes) {
        files.invalidate(path)
        if (isDocument(path)) {
          if (kind === "unlink") {
            const document = documents.get(path)
            if (document) {
              documents.delete(path)
              removed.push(document.source)
              await rm(document.output, { force: true })
            }
          } else {
            targets.add(path)
          }
        }
        for (const document of documents.values()) if (document.dependencies.includes(path)) targets.add(document.file)
      }
      for (const path of [...targets].sort()) {
        try {
          const result = await renderer.render(path, stats)
          documents.set(path, result)
          rendered.push(result)
          reporter.document(result)
        } catch (error) {
          reporter.line(`cannot render ${projectPath(site.root, path)}: ${(error as Error).message}`)
        }
      }
      await writeSiteFiles(site, [...documents.values()])
    } catch (error) {
      await session.abort()
      throw error
    }
    await session.finish({ incremental: true, removed })
    const event: RebuildEvent = {
      changed: [...changes.keys()].map((path) => projectPath(site.root, path)).sort(),
      rebuilt: rendered.map((document) => document.source).sort(),
      misses: rendered
        .filter((document) => !document.hit)
        .map((document) => document.source)
        .sort(),
      removed: removed.sort(),
      documents: rendered,
      stats,
    }
    const list = event.rebuilt.length > 0 ? `: ${event.rebuilt.join(", ")}` : ""
    reporter.line(
      `changed ${event.changed.join(", ")} → rebuilt ${event.rebuilt.length} document${event.rebuilt.length === 1 ? "" : "s"}${list}` +
        (removed.length > 0 ? `; removed ${removed.join(", ")}` : ""),
    )
    events.emit("rebuild", event)
  }

  const schedule = (kind: "add" | "change" | "unlink", path: string) => {
    const file = resolve(path)
    // A file created then written within one window (a `writeFile` is seen as both) is still new to this build.
    pending.set(file, pending.get(file) === "add" && kind === "change" ? "add" : kind)
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = undefined
      const changes = new Map(pending)
      pending.clear()
      running = running.then(() => rebuild(changes)).catch((error: unknown) => void events.emit("error", error))
    }, options.debounceMs ?? 40)
  }
  watcher.on("add", (path) => schedule("add", path))
  watcher.on("change", (path) => schedule("change", path))
  watcher.on("unlink", (path) => schedule("unlink", path))
  watcher.on("error", (error) => events.emit("error", error))

  return {
    initial,
    events,
    next: () => {
      const queued = queue.shift()
      if (queued instanceof Error) return Promise.reject(queued)
      if (queued !== undefined) return Promise.resolve(queued)
      return new Promise((resolveNext, reject) => waiting.push({ resolve: resolveNext, reject }))
    },
    async close() {
      if (timer) clearTimeout(timer)
      await watcher.close()
      await running
      await session.close()
    },
  }
}
