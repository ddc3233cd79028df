import * as fs from "node:fs"
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { FileSystem } from "../src/index.js"
import { IndexFiles } from "../src/index-files.js"
import type { View } from "../src/view.js"

/** A fresh directory below the system's temporary directory, removed by `removeAll()`. */
const made: string[] = []
export function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "sitecache-fs-test-"))
  made.push(dir)
  return dir
}
export function removeAll(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** Every file below `dir` (relative paths), recursively. */
export function filesBelow(dir: string): string[] {
  const out: string[] = []
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel === "" ? name : `${rel}/${name}`
      if (statSync(join(dir, path)).isDirectory()) walk(path)
      else out.push(path)
    }
  }
  walk("")
  return out.sort()
}

export function systemError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${syscall}`), { code, syscall, errno: -1 })
}

/**
 * `node:fs` with some calls replaced: each override receives the original
 * function and the call's arguments.
 */
export function injectFaults(
  overrides: {
    [K in Exclude<keyof FileSystem, "promises">]?: FileSystem[K] extends (...args: infer A) => infer R
      ? (original: FileSystem[K], ...args: A) => R
      : never
  },
): FileSystem & { calls: Record<string, number> } {
  const calls: Record<string, number> = {}
  const wrapped: Record<string, unknown> = { ...fs, calls }
  for (const [name, override] of Object.entries(overrides)) {
    const original = (fs as unknown as Record<string, (...args: unknown[]) => unknown>)[name]
    wrapped[name] = (...args: unknown[]) => {
      calls[name] = (calls[name] ?? 0) + 1
      return (override as (...a: unknown[]) => unknown)(original, ...args)
    }
  }
  return wrapped as unknown as FileSystem & { calls: Record<string, number> }
}

/** Counts calls to every function of `node:fs` used by the backend, without changing them. */
export function countingFileSystem(): FileSystem & { calls: Record<string, number> } {
  const calls: Record<string, number> = {}
  const wrapped: Record<string, unknown> = { ...fs, calls }
  for (const name of [
    "readdirSync",
    "statSync",
    "lstatSync",
    "readFileSync",
    "openSync",
    "fstatSync",
    "linkSync",
    "renameSync",
  ]) {
    const original = (fs as unknown as Record<string, (...args: unknown[]) => unknown>)[name] as (...args: unknown[]) => unknown
    wrapped[name] = (...args: unknown[]) => {
      calls[name] = (calls[name] ?? 0) + 1
      return original(...args)
    }
  }
  return wrapped as unknown as FileSystem & { calls: Record<string, number> }
}

/** What a new process reads of a cache's persisted index and journal (the view before any listing). */
export function persistedView(dir: string): View {
  return new IndexFiles({
    fs,
    base: join(dir, "fs-v1") + "/",
    fsync: false,
    writeTemp: () => {
      throw new Error("persistedView only reads")
    },
  }).load()
}
