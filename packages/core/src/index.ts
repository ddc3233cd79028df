export {
  BACKEND_COMMON_OPTIONS,
  type Backend,
  type BackendContext,
  DEFAULT_MAX_SIZE,
  defaultCacheDir,
  openBackend,
  type PreparedBackend,
} from "./backend.js"
export { derivePrefix, StoreCache, type StoreCacheOptions } from "./cache.js"
export { CACHE_OPTIONS } from "./cache-options.js"
export { describeCause, errorCode, faultCause } from "./causes.js"
export { type Codec, jsonOrV8Codec } from "./codec.js"
export {
  type CacheConfig,
  type ConfigMode,
  type CreateCacheOptions,
  createCache,
  normalizeCacheConfig,
  type ResolvedBackends,
  type ResolvedCacheConfig,
  type ResolvedTier,
  resolveBackends,
} from "./config.js"
export {
  CHECKSUM_SIZE,
  type DecodedEntry,
  decodeEntry,
  ENTRY_FLAGS,
  ENTRY_MAGIC,
  ENTRY_OFFSETS,
  type EntryHeader,
  encodeEntry,
  FORMAT_VERSION,
  HEADER_SIZE,
  HMAC_SIZE,
  readEntryHeader,
} from "./entry.js"
export {
  BackendMissingError,
  BadKeyError,
  BadOptionError,
  CacheFaultError,
  CacheNotFoundError,
  ClosedError,
  CorruptEntryError,
  type ErrorCode,
  SitecacheError,
  UnserializableError,
} from "./errors.js"
export { FileHasher, type FileHasherOptions, type Recheck } from "./file-hasher.js"
export {
  describeUnsound,
  FINGERPRINT_VERSION,
  type FingerprintOptions,
  fingerprint,
  type UnsoundCode,
  type UnsoundPart,
  type ValueFingerprint,
} from "./fingerprint.js"
export { type ResolveCacheConfigInput, resolveCacheConfig } from "./flags.js"
export { formatBytes, formatMs } from "./format.js"
export { type AdapterIdentity, adapterIdentity } from "./identity.js"
export { installedVersion } from "./installed.js"
export {
  BuildKey,
  contentHash,
  framedBytes,
  hashBytes,
  KEY_SEEDS,
  Key,
  type KeyLike,
  type KeyPart,
  key,
  normalizeLineEndings,
  toKey,
  xxh64,
} from "./key.js"
export {
  type MemoContext,
  type MemoEntry,
  type MemoOptions,
  type MemoResult,
  memo,
  memoize,
  memoKey,
} from "./memo.js"
export type { MemoSyncOptions } from "./memo-sync.js"
export {
  createMemoryCache,
  createNullCache,
  type MemoryCacheOptions,
  MemoryStore,
  type MemoryStoreOptions,
  memoryBackend,
  NullStore,
  nullBackend,
} from "./memory.js"
export {
  checkOptions,
  type OptionCheck,
  type OptionSchema,
  optionChecks,
  parseDuration,
  parseSize,
} from "./options.js"
export { copyPlainData, FORBIDDEN_KEYS, PLAIN_COPY_DEPTH, type PlainCopyOptions } from "./plain-copy.js"
export { manifestKeys, prefetchFromManifest } from "./prefetch.js"
export { type HitProfile, hitProfile } from "./profile.js"
export {
  type BuildManifest,
  buildRecords,
  finishBuild,
  MAX_RUNS,
  manifestDigestKey,
  manifestKey,
  type PreviousBuild,
  RECORDS_KEY_PREFIX,
  type RunSummary,
  readManifest,
  readRuns,
  readSweep,
  readTools,
  runsKey,
  sweepKey,
  toolsKey,
} from "./runs.js"
export {
  Build,
  type BuildReport,
  BuildSession,
  type BuildSessionOptions,
  type FinishOptions,
} from "./session.js"
export {
  BuildStats,
  type DocumentRecord,
  type DocumentRef,
  describeDocument,
  describeUncacheable,
  documentId,
  type Uncacheable,
} from "./stats.js"
export type {
  Awaitable,
  EntryId,
  EntryMeta,
  PruneOptions,
  PruneResult,
  Store,
  StoredEntry,
  StoreOwner,
  StoreStats,
  SweepOptions,
} from "./store.js"
export { DEFAULT_MAX_IDLE, SWEEP_INTERVAL, type SweepRecord, type SweepResult } from "./sweep.js"
export { createTieredStore, TieredStore, type TieredStoreOptions } from "./tiered.js"
export { BusyTime, FairShare } from "./timing.js"
export type { Cache, CacheCounters, CacheInfo, CacheMode, PutOptions, SweepRequest } from "./types.js"
