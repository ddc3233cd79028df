export {
  type CachedOptions,
  type CachedProcessor,
  type CachedRunner,
  cached,
  cachedRun,
  UnsupportedError,
} from "./cached.js"
export { type CacheStatus, cacheStatus, dependenciesOf, dependOn } from "./dependencies.js"
export { ADAPTER_VERSION, type Fingerprint, type PluginFingerprint } from "./fingerprint.js"
export { type PackageInfo, PackageResolver } from "./packages.js"
export { type Pipeline, type PipelineOptions, type PluginEntry, type PluginReference, pipeline } from "./pipeline.js"
export { valueBytes } from "./text.js"
export type { ProcessorLike, Tree } from "./types.js"
