export {
  ADAPTER,
  type CacheTransformsOptions,
  cacheTransforms,
  relativeId,
  type TransformCacheReport,
} from "./cache-transforms.js"
export type { RecordedLog } from "./context.js"
export type { FilterPattern } from "./filter.js"
export { fingerprint, installedVersion } from "./fingerprint.js"
export type { CacheableHook } from "./session.js"
