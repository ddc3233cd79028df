/**
 * `cached(processor, { cache })`: a unified processor whose `process(file)`
 * runs once per distinct input, across builds; and `cachedRun`, the same for
 * the tree after `run`, for pipelines that share parsing and transforms but
 * stringify differently.
 *
 * The key of a document is made of named parts, so `sitecache explain` can
 * say which one changed: `content` (line endings normalized), `path`
 * (project-relative), `pipeline` (the whole processor), one
 * `plugin:<name>@<version>` per plugin, `version` (yours), `input` (data set
 * on the file before processing, when any) and `stage`. The parts the
 * processor fixes (stage, pipeline, plugins, version) are hashed once into a
 * `BuildKey`, one part of every document's key; the document's record still
 * lists each of them by name.
 *
 * Slightly over ~400 lines: `cached` and `cachedRun` share their lookup,
 * record and restore path here; the snapshot format is snapshot.ts.
 */
import { isAbsolute, relative, resolve, sep } from "node:path"
import {
  BadOptionError,
  BuildKey,
  type BuildStats,
  type Cache,
  contentHash,
  describeUncacheable,
  describeUnsound,
  FileHasher,
  fingerprint as fingerprintValue,
  Key,
  type KeyPart,
  key,
  memoize,
  normalizeLineEndings,
  SitecacheError,
  type Uncacheable,
} from "@sitecache/core"
import { type Compatible, VFile } from "vfile"
import { dependenciesOf, setCacheStatus, setDependencies } from "./dependencies.js"
import { type Fingerprint, Fingerprinter } from "./fingerprint.js"
import type { PackageResolver } from "./packages.js"
import { isPipeline, loadPipeline, type Pipeline } from "./pipeline.js"
import {
  type FileSnapshot,
  restoreSnapshot,
  snapshotFault,
  snapshotUncacheableReason,
  takeSnapshot,
  uncacheableReason,
} from "./snapshot.js"
import type { ProcessorLike, Tree } from "./types.js"

export interface CachedOptions {
  /** Where results are kept (any sitecache `Cache`, e.g. from `createCache`). */
  readonly cache: Cache
  /** Your own part of every key: change it to invalidate everything this processor cached. */
  readonly version?: string | number
  /** Project root: paths in keys are relative to it, and plugin packages resolve from it. Default `process.cwd()`. */
  readonly root?: string
  /** Counts hits, misses and time saved, and records each document for the build manifest. */
  readonly stats?: BuildStats
  /** File hashes for declared dependencies; share one per build (and invalidate it in watch mode). */
  readonly files?: FileHasher
  /** More package names to look for plugin functions in (besides the function's name and the project's remark/rehype dependencies). */
  readonly packages?: readonly string[]
  /** Time to live of the entries, in ms. */
  readonly ttl?: number
  /** Reads installed packages for fingerprints; share one between processors of a build. */
  readonly resolver?: PackageResolver
}

/** A cached processor: `process` like unified's, asynchronous only. */
export interface CachedProcessor {
  /** Process `file` (a VFile, or anything `new VFile()` takes), or restore it from the cache. */
  process(file?: Compatible): Promise<VFile>
  /** Refused: a cache is asynchronous. Throws `UnsupportedError`. */
  processSync(file?: Compatible): never
  /** The processor's fingerprint (computed once; a pipeline's without loading it). */
  fingerprint(): Promise<Fingerprint>
  /** The processor itself (loads a pipeline's plugins). */
  processor(): Promise<ProcessorLike>
  /** `false` until the processor is loaded: a warm build of a pipeline never loads it. */
  readonly loaded: boolean
  /** The same processor (same fingerprint, same loaded plugins) counting into other `stats`, e.g. one per build in watch mode. */
  withStats(stats: BuildStats | undefined): CachedProcessor
}

/** A cached parse-and-run: the transformed tree, for several compilers. */
export interface CachedRunner {
  /** Parse and run `file`, or restore the tree (and the file's data, messages and history) from the cache. */
  run(file?: Compatible): Promise<{ tree: Tree; file: VFile }>
  /** Refused: a cache is asynchronous. Throws `UnsupportedError`. */
  runSync(file?: Compatible): never
  fingerprint(): Promise<Fingerprint>
  processor(): Promise<ProcessorLike>
  readonly loaded: boolean
  withStats(stats: BuildStats | undefined): CachedRunner
}

/** An operation a cached processor cannot do, such as `processSync`. */
export class UnsupportedError extends SitecacheError {
  readonly operation: string
  constructor(operation: string, instead: string) {
    super(
      "SITECACHE_UNSUPPORTED",
      `sitecache: cannot \`${operation}\` with a cache (caches are asynchronous): use \`await ${instead}\` instead`,
    )
    this.operation = operation
  }
}

/**
 * Cache a unified processor's `process`.
 *
 * @example
 * const processor = cached(unified().use(remarkParse).use(remarkRehype).use(rehypeStringify), { cache })
 * const file = await processor.process(await read("content/about.md"))
 */
export function cached(processor: ProcessorLike | Pipeline, options: CachedOptions): CachedProcessor {
  return processorFacade(new Engine(processor, options, "process"), options.stats)
}

function processorFacade(engine: Engine, stats: BuildStats | undefined): CachedProcessor {
  const facade: CachedProcessor = {
    process: (file) => engine.process(file, stats),
    processSync: () => {
      throw new UnsupportedError("processSync", "cachedProcessor.process(file)")
    },
    fingerprint: () => engine.fingerprint(),
    processor: () => engine.load(),
    get loaded() {
      return engine.loaded
    },
    // A renderer may ask for the build's facade once per document (the blog does): the same stats, the same facade.
    withStats: (other) => (other === stats ? facade : engine.facade(other, processorFacade)),
  }
  return facade
}

/**
 * Cache a unified processor's parse and `run`: the transformed tree, to
 * stringify with several compilers.
 *
 * @example
 * const runner = cachedRun(unified().use(remarkParse).use(remarkGfm).use(remarkRehype), { cache })
 * const { tree, file } = await runner.run(source)
 * const html = unified().use(rehypeStringify).stringify(tree, file)
 */
export function cachedRun(processor: ProcessorLike | Pipeline, options: CachedOptions): CachedRunner {
  return runnerFacade(new Engine(processor, options, "run"), options.stats)
}

function runnerFacade(engine: Engine, stats: BuildStats | undefined): CachedRunner {
  return {
    run: (file) => engine.run(file, stats),
    runSync: () => {
      throw new UnsupportedError("runSync", "cachedRunner.run(file)")
    },
    fingerprint: () => engine.fingerprint(),
    processor: () => engine.load(),
    get loaded() {
      return engine.loaded
    },
    withStats: (other) => engine.facade(other, runnerFacade),
  }
}

interface RunSnapshot {
  readonly file: FileSnapshot
  readonly tree: Tree
}

/** Why a stored value is not a `RunSnapshot` that can be restored into `file` (see `snapshotFault`), or `undefined`. */
function runSnapshotFault(stored: unknown, file: VFile, root: string): string | undefined {
  if (stored === null || typeof stored !== "object" || Object.getPrototypeOf(stored) !== Object.prototype)
    return "not a tree snapshot"
  const { tree, file: snapshot } = stored as Record<string, unknown>
  if (tree === null || typeof tree !== "object" || typeof (tree as { type?: unknown }).type !== "string")
    return "`tree` is not a syntax tree"
  return snapshotFault(snapshot, file, root)
}

class Engine {
  readonly #source: ProcessorLike | Pipeline
  readonly #cache: Cache
  readonly #root: string
  readonly #files: FileHasher
  readonly #fingerprinter: Fingerprinter
  readonly #options: CachedOptions
  readonly #stage: "process" | "run"
  #fingerprint: Promise<Fingerprint> | undefined
  /**
   * The parts of every document's key that this processor fixes (stage,
   * pipeline, one per plugin, your version), hashed once as one build key,
   * and why the processor cannot be cached, when it cannot.
   */
  #buildKey: Promise<{ build: BuildKey; uncacheable?: Uncacheable }> | undefined
  /** `#buildKey` once settled: a document then waits for nothing before its lookup. */
  #built: { build: BuildKey; uncacheable?: Uncacheable } | undefined
  #processor: Promise<ProcessorLike> | undefined
  #loaded: ProcessorLike | undefined

  constructor(source: ProcessorLike | Pipeline, options: CachedOptions, stage: "process" | "run") {
    if (options === null || typeof options !== "object") throw new BadOptionError("options", "expected `{ cache }`")
    const cache = options.cache as Partial<Cache> | undefined
    if (cache === undefined || cache === null || typeof cache.get !== "function" || typeof cache.put !== "function") {
      throw new BadOptionError("cache", 'expected a sitecache `Cache` (e.g. `await createCache({ backend: "sqlite" })`)')
    }
    if (
      !isPipeline(source) &&
      (source === null ||
        (typeof source !== "object" && typeof source !== "function") ||
        !Array.isArray((source as ProcessorLike).attachers))
    ) {
      throw new BadOptionError("processor", "expected a unified processor or a `pipeline([...])`")
    }
    if (options.version !== undefined && typeof options.version !== "string" && typeof options.version !== "number") {
      throw new BadOptionError("version", "expected a string or a number")
    }
    this.#source = source
    this.#cache = options.cache
    this.#root = resolve(options.root ?? process.cwd())
    this.#files = options.files ?? new FileHasher({ root: this.#root })
    this.#fingerprinter = new Fingerprinter({
      root: isPipeline(source) ? source.root : this.#root,
      ...(options.resolver === undefined ? { memory: options.cache } : { resolver: options.resolver }),
      ...(options.packages === undefined ? {} : { packages: options.packages }),
    })
    this.#options = options
    this.#stage = stage
    if (!isPipeline(source)) {
      this.#processor = Promise.resolve(source)
      this.#loaded = source
    }
  }

  get loaded(): boolean {
    return this.#loaded !== undefined
  }

  /** The facade counting into `stats`, made once per `stats` (and kept only while `stats` is). */
  readonly #facades = new WeakMap<BuildStats, object>()
  facade<F extends object>(stats: BuildStats | undefined, make: (engine: Engine, stats: BuildStats | undefined) => F): F {
    if (stats === undefined) return make(this, undefined)
    let facade = this.#facades.get(stats) as F | undefined
    if (facade === undefined) {
      facade = make(this, stats)
      this.#facades.set(stats, facade)
    }
    return facade
  }

  fingerprint(): Promise<Fingerprint> {
    if (this.#fingerprint === undefined) {
      const source = this.#source
      const plugins = isPipeline(source)
        ? source.plugins
        : source.attachers.map(([plugin, ...parameters]) => ({ source: { kind: "function" as const, plugin }, parameters }))
      const settings = isPipeline(source) ? source.settings : source.data("settings")
      this.#fingerprint = this.#fingerprinter.fingerprint(plugins, settings)
      this.#fingerprint.catch(() => {
        this.#fingerprint = undefined
      })
    }
    return this.#fingerprint
  }

  load(): Promise<ProcessorLike> {
    if (this.#processor === undefined) {
      this.#processor = loadPipeline(this.#source as Pipeline, this.#fingerprinter).then((processor) => {
        this.#loaded = processor
        return processor
      })
      this.#processor.catch(() => {
        this.#processor = undefined
      })
    }
    return this.#processor
  }

  async process(input: Compatible | undefined, stats: BuildStats | undefined): Promise<VFile> {
    const file = toVFile(input)
    await this.#memoize<void, FileSnapshot>(
      file,
      stats,
      async (processor) => {
        await processor.process(file)
      },
      (_, before) => takeSnapshot(file, before, this.#root, true),
      snapshotUncacheableReason,
      (stored) => snapshotFault(stored, file, this.#root),
      (snapshot) => restoreSnapshot(file, snapshot, this.#root),
    )
    return file
  }

  async run(input: Compatible | undefined, stats: BuildStats | undefined): Promise<{ tree: Tree; file: VFile }> {
    const file = toVFile(input)
    const value = await this.#memoize<Tree, RunSnapshot>(
      file,
      stats,
      async (processor) => (await processor.run(processor.parse(file) as never, file)) as Tree,
      (tree, before) => ({ file: takeSnapshot(file, before, this.#root, false), tree }),
      (snapshot) => snapshotUncacheableReason(snapshot.file) ?? uncacheableReason(snapshot.tree, "tree"),
      (stored) => runSnapshotFault(stored, file, this.#root),
      (snapshot) => restoreSnapshot(file, snapshot.file, this.#root),
    )
    return { tree: value.tree, file }
  }

  /**
   * Look `file` up, or `render` it and store what `snapshot` makes of it.
   * The two are apart so that the time recorded (what a hit saves) is the
   * processing's own, without the snapshot, which is the cache's cost.
   */
  async #memoize<R, T>(
    file: VFile,
    stats: BuildStats | undefined,
    render: (processor: ProcessorLike) => Promise<R>,
    snapshot: (rendered: R, before: { history: number; messages: number }) => T,
    whyUncacheable: (value: T) => string | undefined,
    whyUnusable: (stored: unknown) => string | undefined,
    restore: (value: T) => void,
  ): Promise<T> {
    const { build, uncacheable: processorUncacheable } = this.#built ?? (await this.#settleBuildKey())
    const document = file.path ? this.#projectPath(file.path, file.cwd) : undefined
    const content = contentOf(file.value)
    const parts: Record<string, KeyPart> = { content, path: document ?? "", build }
    let uncacheable = processorUncacheable
    if (Object.keys(file.data).length > 0) {
      const input = fingerprintValue(file.data)
      parts.input = input.key
      const [unsound] = input.unsound
      if (unsound !== undefined) uncacheable ??= { reason: describeUnsound(unsound, "input", "file.data") }
    }
    const before = { history: file.history.length, messages: file.messages.length }
    let ran = false
    let ms = 0
    const lookup = () =>
      memoize<T>(
        this.#cache,
        parts,
        async (context) => {
          // Loading the pipeline is not the document's cost: leave, load, and look up again,
          // so the entry records (and a later hit saves) only the time processing took.
          const processor = this.#loaded
          if (processor === undefined) throw NOT_LOADED
          ran = true
          const started = performance.now()
          const rendered = await render(processor)
          ms = performance.now() - started
          context.took(ms)
          const value = snapshot(rendered, before)
          for (const path of dependenciesOf(file)) context.dependOn(path)
          const reason = whyUncacheable(value)
          if (reason !== undefined) context.uncacheable(reason)
          return value
        },
        {
          files: this.#files,
          validate: whyUnusable,
          ...(stats === undefined ? {} : { stats }),
          ...(document === undefined ? {} : { document }),
          ...(this.#options.ttl === undefined ? {} : { ttl: this.#options.ttl }),
          ...(uncacheable === undefined ? {} : { uncacheable }),
        },
      )
    let result: Awaited<ReturnType<typeof lookup>>
    try {
      result = await lookup()
    } catch (error) {
      if (error !== NOT_LOADED) throw error
      await this.load()
      result = await lookup()
    }
    let value = result.value
    if (!ran) {
      const restoring = performance.now()
      // A hit is a fresh decode; a result shared with a concurrent identical call is that call's: copy it.
      if (!result.hit) value = copy(value)
      restore(value)
      setDependencies(
        file,
        result.deps.map((path) => this.#files.absolute(path)),
      )
      if (result.hit && stats !== undefined) stats.timing.restoreMs += performance.now() - restoring
    }
    // The content hash the key took: of the text (memoize hashed it), or the bytes' own.
    const contentHex = typeof content === "string" ? result.parts?.content : content?.bytes
    setCacheStatus(file, {
      hit: !ran,
      key: result.key.hex,
      ...(contentHex === undefined ? {} : { content: contentHex }),
      result: result.depHashes === undefined ? result.key.hex : key(result.key, this.#depsKey(result.depHashes)).hex,
      ms: ran ? ms : result.savedMs,
      ...(result.uncacheable === undefined ? {} : { uncacheable: describeUncacheable(result.uncacheable) }),
    })
    return value
  }

  /** The build key, computed once (a failure is not kept: the next document tries again). */
  async #settleBuildKey(): Promise<{ build: BuildKey; uncacheable?: Uncacheable }> {
    this.#buildKey ??= this.fingerprint().then((fingerprint) => {
      const fixed: Record<string, KeyPart> = { stage: this.#stage, pipeline: Key.fromHex(fingerprint.pipeline) }
      for (const [name, hex] of Object.entries(fingerprint.parts)) fixed[name] = Key.fromHex(hex)
      if (this.#options.version !== undefined) fixed.version = String(this.#options.version)
      const build = new BuildKey(fixed)
      return fingerprint.uncacheable === undefined ? { build } : { build, uncacheable: fingerprint.uncacheable }
    })
    const built = await this.#buildKey.catch((error: unknown) => {
      this.#buildKey = undefined
      throw error
    })
    this.#built = built
    return built
  }

  /**
   * One key for a document's dependency hashes, which the documents of a
   * site mostly share (the same layout and partials): hashed once per
   * distinct set, not framed as a record for every document.
   */
  #depsKey(deps: Readonly<Record<string, string | null>>): Key {
    const text = JSON.stringify(deps)
    let found = this.#depsKeys.get(text)
    if (found === undefined) {
      found = key(text)
      if (this.#depsKeys.size >= 1024) this.#depsKeys.clear()
      this.#depsKeys.set(text, found)
    }
    return found
  }

  readonly #depsKeys = new Map<string, Key>()

  /** `path` (relative to `cwd`) project-relative with `/`, or absolute when outside the root. */
  #projectPath(path: string, cwd: string): string {
    // The usual case, a normalized absolute path inside the root, without resolving (one per document).
    const root = this.#root
    if (
      path.length > root.length + 1 &&
      path.startsWith(root) &&
      path[root.length] === sep &&
      isAbsolute(path) &&
      !NOT_NORMALIZED.test(path)
    ) {
      const rel = path.slice(root.length + 1)
      return sep === "/" ? rel : rel.split(sep).join("/")
    }
    return this.#resolvedProjectPath(resolve(cwd || root, path))
  }

  #resolvedProjectPath(path: string): string {
    const rel = relative(this.#root, path)
    if (rel.startsWith("..") || isAbsolute(rel)) return path.split(sep).join("/")
    return rel.split(sep).join("/")
  }
}

/** A path with an empty, `.` or `..` segment or a trailing separator (either separator), which only `resolve` can normalize. */
const NOT_NORMALIZED = /[\\/]{2}|[\\/]\.\.?(?:[\\/]|$)|[\\/]$/

/** Thrown out of a lookup that missed before the pipeline was loaded (never escapes). */
const NOT_LOADED = Symbol("not loaded")

function toVFile(input: Compatible | undefined): VFile {
  if (input !== null && typeof input === "object" && "message" in input && "messages" in input) return input as VFile
  return new VFile(input)
}

function contentOf(value: VFile["value"]): string | { bytes: string } | null {
  if (value === undefined) return null
  if (typeof value === "string") return normalizeLineEndings(value)
  return { bytes: contentHash(value) }
}

function copy<T>(value: T): T {
  try {
    return structuredClone(value)
  } catch {
    return value
  }
}
