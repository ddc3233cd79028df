/**
 * One configuration of the site suite, in its own process so that its peak
 * RSS is its own: `node <source flags> child.ts '<ChildSpec JSON>'`. Prints
 * one line `RESULT <ChildResult JSON>` on stdout.
 *
 * Every build is the example blog's `build(site, { renderer })`: list the
 * content, read each document, render it (the one step that differs between
 * configurations), write the page, write the index, record the build. What
 * differs is the renderer's processor:
 *
 * - uncached: the pipeline itself (`build(..., { uncached: true })`);
 * - floor: a processor that restores a recording: no render, no cache;
 * - sitecache: `cached(processor, { cache })` on the configured backend;
 * - peers: the same per-document memoization with a peer store (`./peers.ts`).
 *
 * Per repetition: empty the cache, build cold (every document misses), build
 * warm (every document hits). A persistent cache is opened and closed around
 * each build, as a build command does, and that is timed; the memory cache
 * lives across the cold and warm builds of a repetition (a dev server's
 * rebuild). Modules are loaded once, before any timing, in every child.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { deserialize, serialize } from "node:v8"
import {
  BuildKey,
  BuildStats,
  type Cache,
  type CacheConfig,
  createCache,
  createNullCache,
  FileHasher,
  finishBuild,
  Key,
  type KeyPart,
  key,
  memoKey,
  normalizeLineEndings,
  readManifest,
  type StoreCache,
} from "@sitecache/core"
import { type CachedProcessor, cached, type ProcessorLike } from "@sitecache/unified"
import { type BuildResult, build, listDocuments, loadSite, Renderer } from "example-blog"
import { collectGarbage } from "../harness.js"
import { type Config, configById } from "./configs.js"
import { openPeer, type PeerStore, peerKey } from "./peers.js"
import { cheapProcessor, type Recording, recordingProcessor, replayProcessor, type VFile } from "./pipeline.js"
import { directoryBytes } from "./sites.js"

export interface ChildSpec {
  readonly config: string
  /** The site's project root (`blog.config.json`, `content/`). */
  readonly root: string
  /** Scratch folder of this configuration on this site (outputs, cache). */
  readonly work: string
  /** `example`: the blog's pipeline; `cheap`: `cheapProcessor()` (synthetic sites). */
  readonly pipeline: "example" | "cheap"
  /** Repetitions of each build (cold, warm). */
  readonly repeat: number
  /** Uncached baseline: write what each document rendered to this file (first repetition). */
  readonly record?: string
  /** Replay this recording instead of rendering (the floor, and cold builds of the real corpus). */
  readonly replay?: string
  /**
   * sitecache through the blog's own renderer (its pipeline loaded only on a
   * miss, inside the timed build), as a user runs `blog` twice, each build a
   * process of its own: `cold` builds once from an empty cache with the real
   * render and leaves the cache in place; `warm` builds on that cache.
   */
  readonly real?: "cold" | "warm"
  /** Caches: a floor build after each warm build (see `ChildResult.floor`). */
  readonly pairFloor?: boolean
  /**
   * Peers: a warm build of sitecache on this backend after each warm build
   * of the peer (see `ChildResult.sitecacheInTurn`), its cache filled by an
   * untimed cold build first.
   */
  readonly pairSitecache?: string
  /** Warm builds (and their pairs), when more than `repeat`: the comparisons the suite is for take more samples. */
  readonly warmRepeat?: number
  /**
   * Keep the output folder between builds, so that a build rewrites only the
   * pages that changed and checks the others (`stat`) as `blog` does; default:
   * every build starts from an empty one and writes every page.
   */
  readonly keepOutput?: boolean
  /** One untimed build before the timed floor and warm builds (default true): the JIT's warm-up, on small sites. */
  readonly warmup?: boolean
  /** sitecache: after the builds, time each layer of a warm build separately (see `profileWarm`). */
  readonly profile?: boolean
  readonly redisUrl?: string
}

export interface ChildResult {
  readonly config: string
  readonly documents: number
  /** uncached and floor: every build; caches: the cold builds. ms. */
  readonly cold: readonly number[]
  /** Caches: the warm builds, ms. */
  readonly warm: readonly number[]
  /** Caches: a floor build after each warm build (`warm[i]` and `floor[i]` moments apart), ms. */
  readonly floor?: readonly number[]
  /** Peers with `pairSitecache`: a sitecache warm build after each warm build (`warm[i]` and `sitecacheInTurn[i]` moments apart), ms. */
  readonly sitecacheInTurn?: readonly number[]
  /** With `real: "cold"`: the cold build through the blog's own renderer, real render included (ms). */
  readonly realCold?: number
  /** With `real: "cold"`: the part of `realCold` the adapter measured as rendering (the sum over the misses, ms). */
  readonly realColdRender?: number
  /** With `real: "warm"`: warm builds through the blog's own renderer in a new process (ms). */
  readonly realWarm?: readonly number[]
  readonly coldMisses: number
  readonly warmHits: number
  /** One hash of every written page: equal outputs, equal hashes. */
  readonly outputHash: string
  readonly bytesIn: number
  readonly bytesOut: number
  /** Bytes the cache holds after the builds. */
  readonly cacheBytes?: number
  /** Peak resident set size of this process, KiB. */
  readonly maxRssKiB: number
  /** CPU time this process used (user + system), s: on a busy machine, a hint of what the wall times would be. */
  readonly cpuSeconds: number
  readonly warnings: readonly string[]
  readonly profile?: WarmProfile
}

/** Where a warm build's time goes, layer by layer (µs per document, or ms for once-per-build steps). */
export interface WarmProfile {
  readonly documents: number
  /** Once per build, ms. */
  readonly openMs: number
  readonly fingerprintMs: number
  readonly finishBuildMs: number
  readonly closeMs: number
  /** Per document, µs: the store's raw read of the entry bytes. */
  readonly storeGetUs: number
  /** `cache.get`: the raw read plus header, checksum and decode. */
  readonly cacheGetUs: number
  /** The memo key of a document, computed as the adapter does: each named part hashed (the content's text, the path, the pipeline and plugin parts), then the record. */
  readonly keyUs: number
  /** The dependency check of a hit: the content hash of each declared dependency, from the build's file-hash memory. */
  readonly depsUs: number
  /** The adapter's `process` on a hit: the key, `cache.get`, the dependency check, restoring the VFile. */
  readonly processUs: number
}

/** The peers' part of every key (what sitecache's pipeline fingerprint does for it). */
const PEER_VERSION = "bench-pipeline-1"

const spec = JSON.parse(process.argv[2] ?? "{}") as ChildSpec
const config = configById(spec.config)
const warnings: string[] = []
/**
 * Nothing is deleted while this process builds: every build that starts from
 * an empty output folder gets a new one (`out-1`, `out-2`, …), and every empty
 * cache a new folder, all removed with the run's folder when the suite ends.
 * On a disk mounted with `discard` (virtual machines, CI runners) deleting
 * thousands of files queues discards that stall the creation of new files for
 * seconds afterwards: measured here, creating 1,198 files of 20 KB took
 * 20 ms on a settled disk and 700 ms after deleting as many, which made the
 * floor 6× slower late in a run than early in it.
 */
let folders = 0
/** A folder of the work folder that does not exist yet: `<prefix>-<n>`. */
function newFolder(prefix: string): string {
  let folder: string
  do folder = join(spec.work, `${prefix}-${++folders}`)
  while (existsSync(folder))
  return folder
}
/** The cache folder; the `real` modes share one between their two processes. */
let cacheDir = join(spec.work, "cache")
const loaded = await loadSite({ cwd: spec.root, argv: [], env: {}, overrides: { out: join(spec.work, "out-0") } })
/** The site as the current build writes it (`outDir` changes, see `prepareBuild`). */
let site = loaded

/**
 * The real render: the blog's pipeline, loaded, or the cheap one. Not loaded
 * in the `real` modes: there the blog's renderer loads it on a miss, inside
 * the timed build, and a warm build never does.
 */
const real: ProcessorLike =
  spec.real !== undefined
    ? notLoaded()
    : spec.pipeline === "example"
      ? await new Renderer(site, { cache: createNullCache() }).processor.processor()
      : await cheapProcessor()

function notLoaded(): ProcessorLike {
  return new Proxy({} as ProcessorLike, {
    get: () => {
      throw new Error(`bench site: ${spec.config} (real: ${spec.real}) must not use the preloaded pipeline`)
    },
  })
}
const recording = spec.replay === undefined ? undefined : (deserialize(readFileSync(spec.replay)) as Recording)
/** What cold builds render with: the recording when there is one. */
const coldRenderer = recording === undefined ? real : replayProcessor(real, recording)

let documents = 0
let coldMisses = 0
let warmHits = 0
let outputHash = ""
let bytesIn = 0
let bytesOut = 0
let cacheBytes: number | undefined

/**
 * Every timed build starts from an empty output folder (as in CI or a fresh
 * checkout), so that it writes every page: the blog skips pages whose file
 * already holds the same bytes, which would turn the floor's "write every
 * page" into "compare every page". With `keepOutput` (the synthetic sites)
 * only cold builds start from an empty folder (a first build writes every
 * page); warm and floor builds find the pages of the build before (a next
 * build checks them and writes none).
 */
function prepareBuild(build: "cold" | "warm" | "floor"): void {
  // Called before the build's renderer is made: a Renderer keeps the site it was made with (its output folder).
  if (build === "cold" || spec.keepOutput !== true) site = { ...loaded, outDir: newFolder("out") }
  // Each timed build starts on a clean heap, as a build command in a new process does (see collectGarbage).
  collectGarbage()
}

/**
 * Untimed builds before the timed warm builds: one, unless `warmup` is false
 * (a large site amortizes the JIT's warm-up). The floor always has one: with
 * `keepOutput`, it is the build that writes the pages the timed ones check.
 */
const WARMUP = spec.warmup === false ? 0 : 1

/** A processor in the renderer's `CachedProcessor` slot that runs `process` with no cache. */
function plainProcessor(processor: ProcessorLike, process: (file: VFile) => Promise<void>): CachedProcessor {
  const self: CachedProcessor = {
    process: async (file) => {
      await process(file as VFile)
      return file as VFile
    },
    processSync: () => {
      throw new Error("processSync")
    },
    fingerprint: () => Promise.reject(new Error("no fingerprint")),
    processor: async () => processor,
    loaded: true,
    withStats: () => self,
  }
  return self
}

function rendererWith(cache: Cache, files: FileHasher, processor: CachedProcessor): Renderer {
  const renderer = new Renderer(site, { cache, files })
  Object.defineProperty(renderer, "processor", { value: processor })
  return renderer
}

/** The blog's renderer running `processor` with no cache: the uncached and floor builds. */
function plainRenderer(processor: ProcessorLike): Renderer {
  return rendererWith(
    createNullCache(),
    new FileHasher({ root: site.root, recheck: "per-build" }),
    plainProcessor(processor, async () => {}),
  )
}

/** Hash every page a build wrote (after the build, untimed). */
function keepOutputs(result: BuildResult): void {
  const hashes = result.documents.map((document) => key(readFileSync(document.output)).hex)
  const hash = key(hashes.join("")).hex
  if (outputHash !== "" && outputHash !== hash) warnings.push("pages differ between builds of this configuration")
  outputHash = hash
  documents = result.documents.length
  bytesOut = result.bytes
  bytesIn = result.documents.reduce((sum, document) => sum + readFileSync(document.file).length, 0)
}

async function uncached(): Promise<number[]> {
  const times: number[] = []
  for (let r = 0; r < spec.repeat; r++) {
    const record: Recording | undefined = r === 0 && spec.record !== undefined ? new Map() : undefined
    const processor = record === undefined ? real : recordingProcessor(real, record)
    prepareBuild("cold")
    const renderer = plainRenderer(processor)
    const started = performance.now()
    const result = await build(site, { uncached: true, renderer })
    times.push(performance.now() - started)
    if (r === spec.repeat - 1) keepOutputs(result)
    if (record !== undefined && spec.record !== undefined) writeFileSync(spec.record, serialize(record))
  }
  return times
}

/** What the floor replays: the recording, or (synthetic sites) the cheap render recorded once, untimed. */
let floorPages: Recording | undefined = recording

/** One floor build: read every source and write every page and the index, restoring a recording (ms). */
async function floorBuild(): Promise<{ ms: number; result: BuildResult }> {
  if (floorPages === undefined) {
    // Record the cheap render first (untimed): the floor itself never renders.
    const pages: Recording = new Map()
    prepareBuild("floor")
    const renderer = plainRenderer(recordingProcessor(real, pages))
    await build(site, { uncached: true, renderer })
    floorPages = pages
  }
  const replay = replayProcessor(real, floorPages)
  prepareBuild("floor")
  const renderer = plainRenderer(replay)
  const started = performance.now()
  const result = await build(site, { uncached: true, renderer })
  return { ms: performance.now() - started, result }
}

async function floor(): Promise<number[]> {
  const times: number[] = []
  // One untimed build first: the floor is the fastest build, so the JIT's warm-up would weigh most on it.
  for (let r = -1; r < spec.repeat; r++) {
    const { ms, result } = await floorBuild()
    if (r >= 0) times.push(ms)
    if (r === spec.repeat - 1) keepOutputs(result)
  }
  return times
}

/**
 * Floor builds taken in turn with a configuration's warm builds (one after
 * each), so that "warm vs floor" is a ratio of builds made moments apart: on
 * a shared machine the floor measured minutes earlier in another process can
 * be off by half. With `pairFloor`; never in the `real` modes, which do not
 * load the pipeline.
 */
const pairedFloor: number[] = []
async function pairFloor(): Promise<void> {
  if (spec.pairFloor === true && spec.real === undefined) pairedFloor.push((await floorBuild()).ms)
}

function cacheConfig(backend: string | readonly string[], dir = cacheDir): CacheConfig {
  const namespace = `bench-site-${spec.config}-${site.config.title}`.replace(/[^a-z0-9]+/gi, "-").toLowerCase()
  return {
    backend,
    dir,
    root: site.root,
    memory: { maxSize: "4 GB" },
    ...(backend === "memory" ? { maxSize: "4 GB" } : {}),
    ...(spec.redisUrl === undefined ? {} : { redis: { url: spec.redisUrl, namespace } }),
  }
}

function openSitecache(backend: string | readonly string[], dir = cacheDir): Promise<StoreCache> {
  return createCache(cacheConfig(backend, dir), {
    resolveFrom: import.meta.url,
    onWarning: (message) => {
      if (!warnings.includes(message)) warnings.push(message)
    },
  })
}

/**
 * Open the cache (or reuse the memory cache), build, close: timed from open
 * to close. `processor` undefined: the blog's own renderer (its pipeline,
 * loaded only on a miss).
 */
async function sitecacheBuild(
  backend: string | readonly string[],
  processor: ProcessorLike | undefined,
  kept: StoreCache | undefined,
  kind: "cold" | "warm",
  dir = cacheDir,
): Promise<{ ms: number; result: BuildResult; cache?: StoreCache }> {
  prepareBuild(kind)
  const started = performance.now()
  const cache = kept ?? (await openSitecache(backend, dir))
  // One hasher per build, as the blog's renderer keeps its own: files are read once per build, not stat'ed per lookup.
  const files = new FileHasher({ root: site.root, recheck: "per-build" })
  const renderer =
    processor === undefined
      ? new Renderer(site, { cache, files })
      : rendererWith(cache, files, cached(processor, { cache, root: site.root, files }))
  const result = await build(site, { renderer })
  if (backend !== "memory") await cache.close()
  const ms = performance.now() - started
  return { ms, result, ...(backend === "memory" ? { cache } : {}) }
}

/** Start from an empty cache: a new folder (see `newFolder`), and an empty Redis namespace. */
async function emptySitecache(): Promise<void> {
  if (spec.real === undefined) cacheDir = newFolder("cache")
  if (config.redis === true) {
    const cache = await openSitecache("redis")
    await cache.clear()
    await cache.close()
  }
}

async function measureCacheBytes(backend: string | readonly string[], open?: StoreCache): Promise<number> {
  if (open !== undefined) return (await open.inspect()).size
  if (config.redis === true) {
    const cache = await openSitecache(backend)
    const size = (await cache.inspect()).size
    await cache.close()
    return size
  }
  return directoryBytes(cacheDir)
}

/**
 * Cold builds, each from an empty cache; then the warm builds, after one
 * untimed warm build (the floor has an untimed build first too, so that
 * neither side pays the JIT's warm-up, and no warm build follows the cold
 * build's writes), each followed by a floor build with `pairFloor`.
 */
async function sitecacheRuns(
  backend: string | readonly string[],
  processor: ProcessorLike | undefined,
  repeat: number,
): Promise<{ cold: number[]; warm: number[] }> {
  const cold: number[] = []
  const warm: number[] = []
  let kept: StoreCache | undefined
  for (let r = 0; r < repeat; r++) {
    await kept?.close()
    await emptySitecache()
    const first = await sitecacheBuild(backend, processor, undefined, "cold")
    cold.push(first.ms)
    coldMisses = first.result.stats.misses
    kept = first.cache
  }
  warm.push(...(await warmRuns(backend, processor, repeat, kept)))
  return { cold, warm }
}

/** `repeat` warm builds on a warm cache, after one untimed one; keeps the last build's pages and the cache's size. */
async function warmRuns(
  backend: string | readonly string[],
  processor: ProcessorLike | undefined,
  repeat: number,
  kept?: StoreCache,
): Promise<number[]> {
  const warm: number[] = []
  let open = kept
  for (let r = -WARMUP; r < repeat; r++) {
    const next = await sitecacheBuild(backend, processor, open, "warm")
    open = next.cache
    if (r < 0) continue
    warm.push(next.ms)
    warmHits = Math.min(r === 0 ? Number.POSITIVE_INFINITY : warmHits, next.result.stats.hits)
    if (r === repeat - 1) {
      keepOutputs(next.result)
      cacheBytes = await measureCacheBytes(backend, open)
    }
    await pairFloor()
  }
  await open?.close()
  return warm
}

/** The blog's renderer with per-document memoization in a peer store, written the direct way. */
function peerProcessor(store: () => PeerStore, render: ProcessorLike, counts: { hits: number; misses: number }): CachedProcessor {
  return plainProcessor(render, async (file) => {
    const entryKey = peerKey(PEER_VERSION, file.path, String(file.value))
    const found = await store().get(entryKey)
    if (found !== undefined) {
      counts.hits++
      file.value = found.html
      Object.assign(file.data, found.data)
      return
    }
    counts.misses++
    await render.process(file)
    await store().set(entryKey, { html: String(file.value), data: file.data })
  })
}

async function peerBuild(peer: NonNullable<Config["peer"]>, kind: "cold" | "warm") {
  const counts = { hits: 0, misses: 0 }
  prepareBuild(kind)
  const started = performance.now()
  const store = await openPeer(peer, cacheDir)
  const renderer = rendererWith(
    createNullCache(),
    new FileHasher({ root: site.root, recheck: "per-build" }),
    peerProcessor(() => store, coldRenderer, counts),
  )
  const result = await build(site, { renderer })
  await store.close()
  return { ms: performance.now() - started, result, ...counts }
}

/**
 * Sitecache warm builds taken in turn with a peer's warm builds (one after
 * each, on a cache of its own filled by an untimed cold build), so that
 * "sitecache vs this peer" is a ratio of builds made moments apart, as the
 * floor's is. With `pairSitecache`.
 */
const sitecacheInTurn: number[] = []
let pairedCacheDir: string | undefined
async function pairSitecache(): Promise<void> {
  const backend = spec.pairSitecache
  if (backend === undefined) return
  if (pairedCacheDir === undefined) {
    pairedCacheDir = newFolder("sitecache")
    await sitecacheBuild(backend, coldRenderer, undefined, "cold", pairedCacheDir)
    await sitecacheBuild(backend, coldRenderer, undefined, "warm", pairedCacheDir)
  }
  const next = await sitecacheBuild(backend, coldRenderer, undefined, "warm", pairedCacheDir)
  if (next.result.stats.misses > 0) warnings.push(`sitecache in turn: ${next.result.stats.misses} misses`)
  sitecacheInTurn.push(next.ms)
}

/** As `sitecacheRuns`: cold builds from an empty store, then warm builds after an untimed one. */
async function peerRuns(peer: NonNullable<Config["peer"]>): Promise<{ cold: number[]; warm: number[] }> {
  const cold: number[] = []
  const warm: number[] = []
  for (let r = 0; r < spec.repeat; r++) {
    cacheDir = newFolder("cache")
    const first = await peerBuild(peer, "cold")
    cold.push(first.ms)
    coldMisses = first.misses
  }
  const warmRepeat = Math.max(spec.repeat, spec.warmRepeat ?? 0)
  for (let r = -WARMUP; r < warmRepeat; r++) {
    const next = await peerBuild(peer, "warm")
    if (r < 0) continue
    warm.push(next.ms)
    warmHits = Math.min(r === 0 ? Number.POSITIVE_INFINITY : warmHits, next.hits)
    if (r === warmRepeat - 1) keepOutputs(next.result)
    await pairFloor()
    await pairSitecache()
  }
  cacheBytes = directoryBytes(cacheDir)
  return { cold, warm }
}

/**
 * Time each layer of a warm build on its own, documents one after another
 * (the cache is warm from the last repetition): open, fingerprint, the
 * store's raw reads, `cache.get`, the adapter's `process`, `finishBuild`, close.
 */
async function profileWarm(backend: string | readonly string[], processor: ProcessorLike): Promise<WarmProfile> {
  const paths = await listDocuments(site.contentDir)
  const sources = paths.map((path) => readFileSync(path, "utf8"))
  let started = performance.now()
  const cache = await openSitecache(backend)
  const openMs = performance.now() - started
  const files = new FileHasher({ root: site.root, recheck: "per-build" })
  const stats = new BuildStats()
  const cachedProcessor = cached(processor, { cache, root: site.root, files, stats })
  started = performance.now()
  await cachedProcessor.fingerprint()
  const fingerprintMs = performance.now() - started
  const fingerprint = await cachedProcessor.fingerprint()
  const manifest = await readManifest(cache, "blog")
  const records = Object.values(manifest?.documents ?? {})
  const keys = records.map((record) => Key.fromHex(record.key))
  // Each layer: the median of three passes over every document.
  const perDocument = async (count: number, step: (i: number) => Promise<unknown>) => {
    const passes: number[] = []
    for (let pass = 0; pass < 3; pass++) {
      const begun = performance.now()
      for (let i = 0; i < count; i++) await step(i)
      passes.push(count === 0 ? 0 : ((performance.now() - begun) * 1000) / count)
    }
    return passes.sort((a, b) => a - b)[1] as number
  }
  const storeGetUs = await perDocument(keys.length, async (i) => cache.store.get(cache.entryId(keys[i] as Key)))
  const cacheGetUs = await perDocument(keys.length, (i) => cache.get(keys[i] as Key))
  // The parts the processor fixes are one build key, hashed once per build; a document's key is memoize's own
  // (`memoKey`: its content and path hashed, then the three part keys, every part recorded by name).
  const fixed: Record<string, KeyPart> = { stage: "process", pipeline: Key.fromHex(fingerprint.pipeline) }
  for (const [name, hex] of Object.entries(fingerprint.parts)) fixed[name] = Key.fromHex(hex)
  const build = new BuildKey(fixed)
  const keyUs = await perDocument(paths.length, async (i) =>
    memoKey({
      content: normalizeLineEndings(sources[i] as string),
      path: relative(site.root, paths[i] as string)
        .split(sep)
        .join("/"),
      build,
    }),
  )
  const depsUs = await perDocument(records.length, async (i) => {
    for (const path of Object.keys(records[i]?.deps ?? {})) await files.hash(path)
  })
  const processUs = await perDocument(paths.length, (i) =>
    cachedProcessor.process({ path: paths[i] as string, value: sources[i] as string, cwd: site.root }),
  )
  started = performance.now()
  await finishBuild(cache, stats, "blog")
  const finishBuildMs = performance.now() - started
  started = performance.now()
  await cache.close()
  const closeMs = performance.now() - started
  if (stats.hits !== 3 * paths.length) warnings.push(`profile: ${stats.hits} hits of ${3 * paths.length}`)
  return {
    documents: paths.length,
    openMs,
    fingerprintMs,
    finishBuildMs,
    closeMs,
    storeGetUs,
    cacheGetUs,
    keyUs,
    depsUs,
    processUs,
  }
}

let cold: number[] = []
let warm: number[] = []
let profile: WarmProfile | undefined
let realCold: number | undefined
let realColdRender: number | undefined
let realWarm: number[] | undefined
switch (config.kind) {
  case "uncached":
    cold = await uncached()
    break
  case "floor":
    cold = await floor()
    break
  case "sitecache": {
    const backend = config.backend as string | readonly string[]
    if (spec.real === "cold") {
      await emptySitecache()
      const first = await sitecacheBuild(backend, undefined, undefined, "cold")
      realCold = first.ms
      realColdRender = first.result.documents.reduce((sum, document) => sum + (document.hit ? 0 : document.ms), 0)
      coldMisses = first.result.stats.misses
      await first.cache?.close()
      keepOutputs(first.result)
      break
    }
    if (spec.real === "warm") {
      realWarm = await warmRuns(backend, undefined, spec.repeat)
      break
    }
    ;({ cold, warm } = await sitecacheRuns(backend, coldRenderer, spec.repeat))
    if (spec.profile === true && backend !== "memory") profile = await profileWarm(backend, coldRenderer)
    break
  }
  case "peer":
    ;({ cold, warm } = await peerRuns(config.peer as NonNullable<Config["peer"]>))
    break
}
// A real cold build leaves its cache for the real warm builds that follow, in a process of their own.
// Others leave nothing in Redis (the folders go with the run's).
if (spec.real !== "cold" && config.redis === true) await emptySitecache()

/**
 * This process's peak RSS, KiB. On Linux, `VmHWM` of /proc/self/status:
 * `resourceUsage().maxRSS` keeps, across the exec that started this process,
 * the peak of the process it was forked from (the suite, which holds the
 * corpus), so every configuration reported the suite's 718 MiB.
 */
function peakRssKiB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))
    if (match?.[1] !== undefined) return Number(match[1])
  } catch {}
  return process.resourceUsage().maxRSS
}

const result: ChildResult = {
  config: config.id,
  documents,
  cold,
  warm,
  ...(pairedFloor.length === 0 ? {} : { floor: pairedFloor }),
  ...(sitecacheInTurn.length === 0 ? {} : { sitecacheInTurn }),
  ...(realCold === undefined ? {} : { realCold }),
  ...(realColdRender === undefined ? {} : { realColdRender }),
  ...(realWarm === undefined ? {} : { realWarm }),
  coldMisses,
  warmHits,
  outputHash,
  bytesIn,
  bytesOut,
  ...(cacheBytes === undefined ? {} : { cacheBytes }),
  maxRssKiB: peakRssKiB(),
  cpuSeconds: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1e6,
  warnings,
  ...(profile === undefined ? {} : { profile }),
}
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
process.exit(0)
