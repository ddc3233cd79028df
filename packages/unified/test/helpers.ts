import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { createCache, type StoreCache } from "@sitecache/core"
import type { VFile } from "vfile"
import { VFileMessage } from "vfile-message"

/** Every backend the adapter is tested on. */
export const BACKENDS = ["memory", "fs", "sqlite"] as const

/** This package's directory: remark/rehype resolve from here. */
export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url))

export async function tempDir(prefix = "sitecache-unified-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

/** A cache of `backend` in `dir`; `reopen()` closes it and opens it again on the same storage (memory: the same cache). */
export async function openBackend(backend: (typeof BACKENDS)[number], dir: string) {
  const open = () => createCache({ backend, dir, strict: true }, { resolveFrom: import.meta.url })
  let cache: StoreCache = await open()
  return {
    get cache() {
      return cache
    },
    async reopen(): Promise<StoreCache> {
      if (backend === "memory") return cache
      await cache.close()
      cache = await open()
      return cache
    },
    async close() {
      await cache.close()
    },
  }
}

/** Everything observable about a processed file, for comparing a restored file with an uncached run. */
export function observe(file: VFile) {
  const record = file as unknown as Record<string, unknown>
  return {
    fields: Object.keys(file).sort(),
    value: file.value,
    valueType: file.value instanceof Uint8Array ? "bytes" : typeof file.value,
    data: file.data,
    history: file.history,
    cwd: file.cwd,
    map: file.map,
    result: record.result,
    stored: record.stored,
    custom: record.custom,
    messages: file.messages.map((message) => ({
      isVFileMessage: message instanceof VFileMessage && Object.getPrototypeOf(message) === VFileMessage.prototype,
      isError: message instanceof Error,
      own: Object.getOwnPropertyNames(message).sort(),
      enumerable: Object.keys(message).sort(),
      // Each own property as a plain data property would be: writable and configurable, enumerable or not.
      descriptors: Object.getOwnPropertyNames(message)
        .sort()
        .map((name) => {
          const descriptor = Object.getOwnPropertyDescriptor(message, name) as PropertyDescriptor
          return [name, "value" in descriptor, descriptor.writable, descriptor.configurable, descriptor.enumerable]
        }),
      properties: Object.fromEntries(
        Object.getOwnPropertyNames(message).map((name) => [name, (message as unknown as Record<string, unknown>)[name]]),
      ),
      string: String(message),
    })),
  }
}

/**
 * A project with its own node_modules: real copies of nothing, symlinks to
 * this package's unified and remark/rehype packages, and one real local
 * package, `remark-stamp`, whose version tests can change.
 */
export async function fakeProject(
  dir: string,
  stampVersion = "1.0.0",
): Promise<{ root: string; setStampVersion(v: string): Promise<void> }> {
  const modules = join(dir, "node_modules")
  await mkdir(modules, { recursive: true })
  for (const name of ["unified", "remark-parse", "remark-rehype", "rehype-stringify", "remark-gfm"]) {
    await symlink(join(PACKAGE_ROOT, "node_modules", name), join(modules, name), "dir")
  }
  const stamp = join(modules, "remark-stamp")
  await mkdir(stamp, { recursive: true })
  const setStampVersion = (version: string) =>
    writeFile(
      join(stamp, "package.json"),
      JSON.stringify({ name: "remark-stamp", version, type: "module", exports: "./index.js" }),
    )
  await setStampVersion(stampVersion)
  await writeFile(
    join(stamp, "index.js"),
    "export default function remarkStamp(options = {}) {\n  return (tree, file) => { file.data.stamp = options.label ?? 'stamped' }\n}\n",
  )
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "fake-project", private: true, type: "module", dependencies: { "remark-stamp": stampVersion } }),
  )
  await mkdir(dirname(join(dir, "content", "x")), { recursive: true })
  return { root: dir, setStampVersion }
}
