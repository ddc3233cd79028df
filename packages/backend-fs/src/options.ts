/**
 * Options of the filesystem backend, checked when a store is created. Every
 * message names the option as the user wrote it (`fs.fsync` through
 * `createCache`, `fsync` through `createFsCache`).
 */
import { BadOptionError, type OptionSchema, optionChecks } from "@sitecache/core"
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

function checkFileSystem(value: unknown, option: string): FileSystem {
  if (typeof value !== "object" || value === null || !("readFileSync" in value))
    throw new BadOptionError(option, "expected an object with the functions of `node:fs`")
  return value as FileSystem
}

/** The schema of `FsBackendOptions` (see core's `checkOptions`): the `fs` object of `createCache`, and part of `createFsCache`'s options. */
export const FS_OPTIONS: OptionSchema = {
  fsync: optionChecks.boolean,
  tempMaxAge: optionChecks.duration,
  fileSystem: checkFileSystem,
}

/** `FsBackendOptions` checked by `FS_OPTIONS` (see `checkOptions`), with their defaults. */
export function withFsDefaults(checked: Readonly<Record<string, unknown>>): CheckedFsBackendOptions {
  return {
    fsync: (checked.fsync as boolean | undefined) ?? false,
    tempMaxAge: (checked.tempMaxAge as number | undefined) ?? DEFAULT_TEMP_MAX_AGE,
    ...(checked.fileSystem === undefined ? {} : { fileSystem: checked.fileSystem as FileSystem }),
  }
}
