/**
 * Options of the filesystem backend, checked when a store is created. Every
 * message names the option as the user wrote it (`fs.fsync` through
 * `createCache`, `fsync` through `createFsCache`).
 */
import { BadOptionError, parseDuration } from "@sitecache/core"
import type { FileSystem } from "./file-system.js"

export interface FsBackendOptions {
  /**
   * `fsync` every entry (and its directory) before it becomes visible, and
   * the index before it replaces the old one. Default `false`: an entry
   * survives the writing process being killed either way; only a power loss
   * or kernel crash can then lose recent entries or leave a damaged file,
   * which the checksum turns into a miss.
   */
  readonly fsync?: boolean
  /** Temporary files older than this are removed by `clean()` and `prune()`: ms or `"10m"`. Default 10 minutes. */
  readonly tempMaxAge?: number | string
  /** The file system calls to make (tests inject faults). Default `node:fs`. */
  readonly fileSystem?: FileSystem
}

export interface CheckedFsBackendOptions {
  readonly fsync: boolean
  readonly tempMaxAge: number
  readonly fileSystem?: FileSystem
}

export const DEFAULT_TEMP_MAX_AGE = 10 * 60_000

const KNOWN = ["fsync", "tempMaxAge", "fileSystem"]

/**
 * Check backend options. `scope` is how they were given: `"fs."` for the
 * `fs` object of `createCache`, `""` for `createFsCache`. With `strictKeys`,
 * an unknown option is refused.
 */
export function checkFsBackendOptions(
  raw: Readonly<Record<string, unknown>>,
  scope: string,
  strictKeys: boolean,
): CheckedFsBackendOptions {
  if (strictKeys) {
    for (const name of Object.keys(raw)) {
      if (!KNOWN.includes(name)) {
        throw new BadOptionError(
          `${scope}${name}`,
          `unknown option; known options are ${KNOWN.map((k) => `\`${scope}${k}\``).join(", ")}`,
        )
      }
    }
  }
  const fsync = raw.fsync ?? false
  if (typeof fsync !== "boolean") throw new BadOptionError(`${scope}fsync`, `expected a boolean, got ${JSON.stringify(fsync)}`)
  const tempMaxAge =
    raw.tempMaxAge === undefined ? DEFAULT_TEMP_MAX_AGE : parseDuration(raw.tempMaxAge as string | number, `${scope}tempMaxAge`)
  const fileSystem = raw.fileSystem
  if (fileSystem !== undefined && (typeof fileSystem !== "object" || fileSystem === null || !("readFileSync" in fileSystem))) {
    throw new BadOptionError(`${scope}fileSystem`, "expected an object with the functions of `node:fs`")
  }
  return { fsync, tempMaxAge, ...(fileSystem === undefined ? {} : { fileSystem: fileSystem as FileSystem }) }
}

export function checkMaxSize(value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new BadOptionError("maxSize", `expected bytes > 0, got ${String(value)}`)
  }
  return Math.floor(value)
}

export function checkDir(value: unknown): string {
  if (typeof value !== "string" || value === "")
    throw new BadOptionError("dir", `expected a non-empty path, got ${JSON.stringify(value)}`)
  return value
}
