/**
 * What a cached VFile carries beside its content: the files its plugins read
 * (declared with `dependOn`), and how the cache served it (`cacheStatus`).
 *
 * Both live under registered symbols, off `file.data`, so they never leak into
 * the rendered data, and a plugin can declare a dependency without caring
 * whether the processor is cached at all.
 */
import { isAbsolute, resolve } from "node:path"
import type { VFile } from "vfile"

const DEPENDENCIES = Symbol.for("@sitecache/unified:dependencies")
const STATUS = Symbol.for("@sitecache/unified:status")

/** How the cache served one file. */
export interface CacheStatus {
  /** `true` when the file was restored from the cache, without running the processor. */
  readonly hit: boolean
  /** Hex of the entry's key. */
  readonly key: string
  /**
   * Identifies the result: the entry's key with the content hashes of its
   * dependencies (a key alone does not: a changed partial gives the same key
   * a new result). Equal identifiers, equal outputs.
   */
  readonly result: string
  /**
   * Content hash of the document's value as looked up (`contentHash` of
   * `@sitecache/core`: line endings normalized), which the key already took:
   * a caller that keeps one per source need not hash it again.
   */
  readonly content?: string
  /** How long processing took, in ms: now on a miss; when it ran on a hit (the time the hit saved). */
  readonly ms: number
  /** Set when the result could not be stored, with the reason (e.g. `file.data.x` holds a function). */
  readonly uncacheable?: string
}

type Carrier = { [DEPENDENCIES]?: Set<string>; [STATUS]?: CacheStatus }

/**
 * Declare that processing `file` read the file at `path` (absolute, or
 * relative to `file.cwd`): the cached result is used only while that file's
 * content is unchanged, and a change to it invalidates exactly the documents
 * that declared it. Call it from a plugin, whether or not the file exists (a
 * file that appears later invalidates too).
 *
 * @example
 * function remarkInclude() {
 *   return async (tree, file) => {
 *     const partial = path.join(file.cwd, "partials/footer.md")
 *     dependOn(file, partial)
 *     const text = await fs.readFile(partial, "utf8")
 *     // …
 *   }
 * }
 */
export function dependOn(file: VFile, path: string): void {
  if (typeof path !== "string" || path === "") throw new TypeError("Cannot `dependOn` without a `path`")
  const carrier = file as unknown as Carrier
  let dependencies = carrier[DEPENDENCIES]
  if (dependencies === undefined) {
    dependencies = new Set()
    Object.defineProperty(file, DEPENDENCIES, { value: dependencies, enumerable: false, configurable: true })
  }
  dependencies.add(isAbsolute(path) ? path : resolve(file.cwd || process.cwd(), path))
}

/** The files `file`'s processing read (absolute paths), whether it ran now or was restored from the cache. */
export function dependenciesOf(file: VFile): string[] {
  return [...((file as unknown as Carrier)[DEPENDENCIES] ?? [])]
}

/** How the cache served `file`, or `undefined` when it was not processed by a cached processor. */
export function cacheStatus(file: VFile): CacheStatus | undefined {
  return (file as unknown as Carrier)[STATUS]
}

/** @internal */
export function setDependencies(file: VFile, paths: Iterable<string>): void {
  Object.defineProperty(file, DEPENDENCIES, { value: new Set(paths), enumerable: false, configurable: true })
}

/** @internal */
export function setCacheStatus(file: VFile, status: CacheStatus): void {
  Object.defineProperty(file, STATUS, { value: status, enumerable: false, configurable: true, writable: true })
}
