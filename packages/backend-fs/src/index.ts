/**
 * `@sitecache/backend-fs`: a sitecache backend that keeps one file per entry
 * below a directory. See the README for the on-disk format and the options.
 */
export { backend, createFsCache } from "./backend.js"
export { FsCache, type FsCacheOptions, type StreamPutOptions } from "./cache.js"
export type { FileSystem } from "./file-system.js"
export { CACHEDIR_TAG, LAYOUT_VERSION, ROOT_NAME } from "./layout.js"
export { FS_OPTIONS, type FsBackendOptions } from "./options.js"
export {
  type EntryWriteStream,
  FsStore,
  type FsStoreOptions,
  type OpenForReadOptions,
  type OpenForWriteOptions,
} from "./store.js"
