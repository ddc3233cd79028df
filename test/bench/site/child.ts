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
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { deserialize, serialize } from "node:v8"
import {
  type BackendName,
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
  normalizeLineEndings,
  readManifest,
  type StoreCache,
} from "@sitecache/core"
import { type CachedProcessor, cached, type ProcessorLike } from "@sitecache/unified"
import { type BuildResult, build, listDocuments, loadSite, Renderer } from "example-blog"
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
  /** sitecache: also build cold once with the real render through the blog's own renderer, then warm. */
  readonly realCold?: boolean
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
  /** With `realCold`: a cold build that rendered, then warm builds, through the blog's own renderer (ms). */
  readonly realCold?: number
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
const out = join(spec.work, "out")
const cacheDir = join(spec.work, "cache")
const site = await loadSite({ cwd: spec.root, argv: [], env: {}, overrides: { out } })

/** The real render: the blog's pipeline, loaded, or the cheap one. */
const real: ProcessorLike =
  spec.pipeline === "example"
    ? await new Renderer(site, { cache: createNullCache() }).processor.processor()
    : await cheapProcessor()
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
 * page" into "compare every page".
 */
function emptyOutput(): void {
  rmSync(out, { recursive: true, force: true })
}

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
    const renderer = rendererWith(
      createNullCache(),
      new FileHasher({ root: site.root }),
      plainProcessor(processor, async () => {}),
    )
    emptyOutput()
    const started = performance.now()
    const result = await build(site, { uncached: true, renderer })
    times.push(performance.now() - started)
    if (r === spec.repeat - 1) keepOutputs(result)
    if (record !== undefined && spec.record !== undefined) writeFileSync(spec.record, serialize(record))
  }
  return times
}

async function floor(): Promise<number[]> {
  let pages = recording
  if (pages === undefined) {
    // Record the cheap render first (untimed): the floor itself never renders.
    pages = new Map()
    const recorder = recordingProcessor(real, pages)
    const renderer = rendererWith(
      createNullCache(),
      new FileHasher({ root: site.root }),
      plainProcessor(recorder, async () => {}),
    )
    await build(site, { uncached: true, renderer })
  }
  const replay = replayProcessor(real, pages)
  const times: number[] = []
  // One untimed build first: the floor is the fastest build, so the JIT's warm-up would weigh most on it.
  for (let r = -1; r < spec.repeat; r++) {
    const renderer = rendererWith(
      createNullCache(),
      new FileHasher({ root: site.root }),
      plainProcessor(replay, async () => {}),
    )
    emptyOutput()
    const started = performance.now()
    const result = await build(site, { uncached: true, renderer })
    if (r >= 0) times.push(performance.now() - started)
    if (r === spec.repeat - 1) keepOutputs(result)
  }
  return times
}

function cacheConfig(backend: BackendName | readonly BackendName[]): CacheConfig {
  const namespace = `bench-site-${spec.config}-${site.config.title}`.replace(/[^a-z0-9]+/gi, "-").toLowerCase()
  return {
    backend,
    dir: cacheDir,
    root: site.root,
    memory: { maxSize: "4 GB" },
    ...(backend === "memory" ? { maxSize: "4 GB" } : {}),
    ...(spec.redisUrl === undefined ? {} : { redis: { url: spec.redisUrl, namespace } }),
  }
}

function openSitecache(backend: BackendName | readonly BackendName[]): Promise<StoreCache> {
  return createCache(cacheConfig(backend), {
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
  backend: BackendName | readonly BackendName[],
  processor: ProcessorLike | undefined,
  kept?: StoreCache,
): Promise<{ ms: number; result: BuildResult; cache?: StoreCache }> {
  emptyOutput()
  const started = performance.now()
  const cache = kept ?? (await openSitecache(backend))
  const files = new FileHasher({ root: site.root })
  const renderer =
    processor === undefined
      ? new Renderer(site, { cache, files })
      : rendererWith(cache, files, cached(processor, { cache, root: site.root, files }))
  const result = await build(site, { renderer })
  if (backend !== "memory") await cache.close()
  const ms = performance.now() - started
  return { ms, result, ...(backend === "memory" ? { cache } : {}) }
}

async function emptySitecache(): Promise<void> {
  rmSync(cacheDir, { recursive: true, force: true })
  if (config.redis === true) {
    const cache = await openSitecache("redis")
    await cache.clear()
    await cache.close()
  }
}

async function measureCacheBytes(backend: BackendName | readonly BackendName[], open?: StoreCache): Promise<number> {
  if (open !== undefined) return (await open.inspect()).size
  if (config.redis === true) {
    const cache = await openSitecache(backend)
    const size = (await cache.inspect()).size
    await cache.close()
    return size
  }
  return directoryBytes(cacheDir)
}

async function sitecacheRuns(
  backend: BackendName | readonly BackendName[],
  processor: ProcessorLike | undefined,
  repeat: number,
): Promise<{ cold: number[]; warm: number[] }> {
  const cold: number[] = []
  const warm: number[] = []
  for (let r = 0; r < repeat; r++) {
    await emptySitecache()
    const first = await sitecacheBuild(backend, processor)
    cold.push(first.ms)
    coldMisses = first.result.stats.misses
    const second = await sitecacheBuild(backend, processor, first.cache)
    warm.push(second.ms)
    warmHits = second.result.stats.hits
    if (r === repeat - 1) {
      keepOutputs(second.result)
      cacheBytes = await measureCacheBytes(backend, second.cache)
    }
    await second.cache?.close()
  }
  return { cold, warm }
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

async function peerBuild(peer: NonNullable<Config["peer"]>) {
  const counts = { hits: 0, misses: 0 }
  emptyOutput()
  const started = performance.now()
  const store = await openPeer(peer, cacheDir)
  const renderer = rendererWith(
    createNullCache(),
    new FileHasher({ root: site.root }),
    peerProcessor(() => store, coldRenderer, counts),
  )
  const result = await build(site, { renderer })
  await store.close()
  return { ms: performance.now() - started, result, ...counts }
}

async function peerRuns(peer: NonNullable<Config["peer"]>): Promise<{ cold: number[]; warm: number[] }> {
  const cold: number[] = []
  const warm: number[] = []
  for (let r = 0; r < spec.repeat; r++) {
    rmSync(cacheDir, { recursive: true, force: true })
    const first = await peerBuild(peer)
    cold.push(first.ms)
    coldMisses = first.misses
    const second = await peerBuild(peer)
    warm.push(second.ms)
    warmHits = second.hits
    if (r === spec.repeat - 1) keepOutputs(second.result)
  }
  cacheBytes = directoryBytes(cacheDir)
  return { cold, warm }
}

/**
 * Time each layer of a warm build on its own, documents one after another
 * (the cache is warm from the last repetition): open, fingerprint, the
 * store's raw reads, `cache.get`, the adapter's `process`, `finishBuild`, close.
 */
async function profileWarm(backend: BackendName | readonly BackendName[], processor: ProcessorLike): Promise<WarmProfile> {
  const paths = await listDocuments(site.contentDir)
  const sources = paths.map((path) => readFileSync(path, "utf8"))
  let started = performance.now()
  const cache = await openSitecache(backend)
  const openMs = performance.now() - started
  const files = new FileHasher({ root: site.root })
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
  // The fingerprint's parts are hashes already: the adapter passes them as keys, which memo does not hash again.
  const fingerprintParts: Record<string, Key> = { pipeline: Key.fromHex(fingerprint.pipeline) }
  for (const [name, hex] of Object.entries(fingerprint.parts)) fingerprintParts[name] = Key.fromHex(hex)
  const keyUs = await perDocument(paths.length, async (i) => {
    const parts: Record<string, KeyPart> = {
      stage: "process",
      content: normalizeLineEndings(sources[i] as string),
      path: relative(site.root, paths[i] as string)
        .split(sep)
        .join("/"),
      ...fingerprintParts,
    }
    const named: Record<string, string> = {}
    for (const [name, part] of Object.entries(parts)) named[name] = part instanceof Key ? part.hex : key(part).hex
    return key(named)
  })
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
let realWarm: number[] | undefined
switch (config.kind) {
  case "uncached":
    cold = await uncached()
    break
  case "floor":
    cold = await floor()
    break
  case "sitecache": {
    const backend = config.backend as BackendName | readonly BackendName[]
    if (spec.realCold === true) {
      // The product as a user runs it: the blog's own renderer (pipeline loaded on a miss), cold then warm.
      await emptySitecache()
      const first = await sitecacheBuild(backend, undefined)
      realCold = first.ms
      realWarm = []
      for (let r = 0; r < spec.repeat; r++) realWarm.push((await sitecacheBuild(backend, undefined, first.cache)).ms)
      await first.cache?.close()
    }
    ;({ cold, warm } = await sitecacheRuns(backend, coldRenderer, spec.repeat))
    if (spec.profile === true && backend !== "memory") profile = await profileWarm(backend, coldRenderer)
    break
  }
  case "peer":
    ;({ cold, warm } = await peerRuns(config.peer as NonNullable<Config["peer"]>))
    break
}
await emptySitecache()

const result: ChildResult = {
  config: config.id,
  documents,
  cold,
  warm,
  ...(realCold === undefined ? {} : { realCold }),
  ...(realWarm === undefined ? {} : { realWarm }),
  coldMisses,
  warmHits,
  outputHash,
  bytesIn,
  bytesOut,
  ...(cacheBytes === undefined ? {} : { cacheBytes }),
  maxRssKiB: process.resourceUsage().maxRSS,
  cpuSeconds: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1e6,
  warnings,
  ...(profile === undefined ? {} : { profile }),
}
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
process.exit(0)
