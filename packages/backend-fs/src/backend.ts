/**
 * The fs backend's descriptor, what `createCache({ backend: "fs" })` opens
 * (see core's `Backend`), and `createFsCache(options)`, which opens it from
 * typed options.
 */
import { join } from "node:path"
import { type Backend, type BackendContext, CacheNotFoundError, DEFAULT_MAX_SIZE, openBackend } from "@sitecache/core"
import { FsCache, type FsCacheOptions } from "./cache.js"
import { nodeFileSystem } from "./file-system.js"
import { ROOT_NAME } from "./layout.js"
import { FS_OPTIONS, withFsDefaults } from "./options.js"
import { FsStore } from "./store.js"

/**
 * One file per entry below `dir`. With `context.create` false, a directory
 * without a cache (no `fs-v1` in it) is `CacheNotFoundError`, and nothing is
 * created.
 */
export const backend: Backend<FsStore, FsCache> = {
  name: "fs",
  options: FS_OPTIONS,
  defaultMaxSize: DEFAULT_MAX_SIZE,
  persistent: true,
  location: (context) => context.dir,
  open(context: BackendContext): FsStore {
    const own = withFsDefaults(context.options)
    if (!context.create) {
      const root = join(context.dir, ROOT_NAME)
      const stat = (own.fileSystem ?? nodeFileSystem).statSync(root, { throwIfNoEntry: false })
      if (stat?.isDirectory() !== true) throw new CacheNotFoundError("fs", root)
    }
    return new FsStore({
      dir: context.dir,
      ...(context.maxSize === undefined ? {} : { maxSize: context.maxSize }),
      readOnly: context.mode === "read-only",
      ...(context.clock === undefined ? {} : { clock: context.clock }),
      ...own,
    })
  },
  cache: (store, options) => new FsCache(store, options),
}

/**
 * Open a filesystem cache. Every option (the cache's, `dir`, `maxSize` and the
 * backend's own) is checked by the schemas `createCache` checks with.
 *
 * @example
 * const cache = await createFsCache({ dir: ".cache/site", maxSize: "1 GB" })
 */
export function createFsCache(options: FsCacheOptions = {}): Promise<FsCache> {
  return openBackend(backend, options)
}
