/**
 * The file system calls the backend makes, as one object, so that tests can
 * inject faults (`ENOSPC` on the n-th write, `EROFS`, `EACCES`) the way
 * cacache's tests mock `fs`. Default: `node:fs`.
 */
import * as nodeFs from "node:fs"
import { errorCode } from "@sitecache/core"

export type FileSystem = Pick<
  typeof nodeFs,
  | "openSync"
  | "closeSync"
  | "writeSync"
  | "readSync"
  | "fsyncSync"
  | "fstatSync"
  | "linkSync"
  | "renameSync"
  | "unlinkSync"
  | "readFileSync"
  | "statSync"
  | "lstatSync"
  | "mkdirSync"
  | "readdirSync"
  | "rmSync"
  | "rmdirSync"
  | "promises"
>

export const nodeFileSystem: FileSystem = nodeFs

/** A path that does not exist (or whose directory is not one): a miss, not a fault. */
export function isMissing(error: unknown): boolean {
  const code = errorCode(error)
  return code === "ENOENT" || code === "ENOTDIR"
}

/** `link` is not supported by this filesystem (some FUSE and network mounts): fall back to check-then-rename. */
export function isLinkUnsupported(error: unknown): boolean {
  const code = errorCode(error)
  return code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS" || code === "EXDEV"
}
