/**
 * The command never creates a cache: with no cache where it looks, every
 * command says where it looked and how to point it at the cache, and leaves
 * the project as it was; reading commands leave an existing cache as it was.
 * And the lookup it documents: a cache configured in code is found in the
 * default directory, `package.json`'s `sitecache` key is read, and a
 * project's configuration modules are never run.
 */
import { readdir, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { type CacheConfig, createCache } from "@sitecache/core"
import { beforeEach, describe, expect, it } from "vitest"
import { COMMANDS, type CommandName } from "../src/args.js"
import { loadConfig, openCache } from "../src/config.js"
import { main } from "../src/main.js"
import { build, tempProject, writeFiles } from "./helpers.js"

async function run(argv: string[], cwd: string, env: Record<string, string> = {}) {
  let stdout = ""
  let stderr = ""
  const out = new PassThrough().on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
  const err = new PassThrough().on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
  const stdin = Object.assign(new PassThrough(), { isTTY: false })
  const code = await main(argv, { stdout: out, stderr: err, stdin, env, cwd })
  return { code, stdout, stderr }
}

/** Every file below `root`, with size and modification time. */
async function listing(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const name of await readdir(root, { recursive: true })) {
    const info = await stat(join(root, name))
    files[name] = info.isDirectory() ? "dir" : `${info.size} ${info.mtimeMs}`
  }
  return files
}

/** Each command, with the arguments it needs. */
const INVOCATIONS: Record<CommandName, string[]> = {
  inspect: ["inspect"],
  verify: ["verify"],
  explain: ["explain", "index.md"],
  clear: ["clear", "--yes"],
  prune: ["prune", "--orphans", "--max-size", "1MB"],
}

let root: string
beforeEach(async () => {
  root = await tempProject()
})

async function populate(config: CacheConfig): Promise<void> {
  const cache = await createCache({ root, ...config }, { resolveFrom: import.meta.url })
  try {
    await build(cache, root, {
      documents: { "index.md": { content: "# Home" } },
      plugins: { "remark-parse": "11.0.0" },
      keyPrefix: "",
    })
  } finally {
    await cache.close()
  }
}

describe("with no cache where it looks", () => {
  it("covers every command", () => {
    expect(Object.keys(INVOCATIONS).sort()).toEqual(Object.keys(COMMANDS).sort())
  })

  it.each(Object.entries(INVOCATIONS))(
    "`%s` creates nothing, and says where it looked and how to point it at the cache",
    async (command, argv) => {
      await writeFile(join(root, "package.json"), JSON.stringify({ name: "site" }))
      const before = await listing(root)
      const result = await run(argv, root)
      expect(await listing(root)).toEqual(before)
      // Nothing to clear or prune is done; nothing to inspect, verify or explain is not.
      expect(result.code).toBe(command === "clear" || command === "prune" ? 0 : 1)
      expect(result.stdout).toBe("")
      expect(result.stderr).toContain(`sitecache ${command}: no cache found, and nothing was created. Looked for:`)
      expect(result.stderr).toContain(`an fs cache at ${join(root, "node_modules/.cache/sitecache/fs-v1")}`)
      expect(result.stderr).toContain(`a sqlite cache at ${join(root, "node_modules/.cache/sitecache/cache.db")}`)
      expect(result.stderr).toContain("No configuration found")
      expect(result.stderr).toContain("--cache-backend sqlite --cache-dir .cache/sitecache")
      expect(result.stderr).toContain(`sitecache.config.json in ${root}`)
    },
  )

  it("says which configuration named the missing cache, and prints `found: false` for scripts", async () => {
    await writeFiles(root, { "blog.config.json": JSON.stringify({ title: "Blog", cache: { backend: "sqlite", dir: ".cache" } }) })
    const before = await listing(root)
    const result = await run(["inspect", "--json"], root)
    expect(result.code).toBe(1)
    expect(await listing(root)).toEqual(before)
    expect(JSON.parse(result.stdout)).toEqual({
      found: false,
      looked: [{ backend: "sqlite", location: join(root, ".cache/cache.db") }],
      config: join(root, "blog.config.json"),
    })
    expect(result.stderr).toContain(`as configured by ${join(root, "blog.config.json")} (its \`cache\` key)`)
    const flagged = await run(["verify", "--cache-backend", "fs", "--cache-dir", "elsewhere"], root, { SITECACHE_DIR: "x" })
    expect(flagged.stderr).toContain(`an fs cache at ${join(root, "elsewhere/fs-v1")}, as configured by`)
    expect(flagged.stderr).toMatch(/--cache-backend, --cache-dir, SITECACHE_DIR/)
    expect(await listing(root)).toEqual(before)
  })
})

describe("with a cache", () => {
  it.each(["fs", "sqlite"] as const)(
    "`inspect`, `explain` and `verify --dry-run` leave the %s cache's files as they were",
    async (backend) => {
      await populate({ backend })
      const before = await listing(root)
      for (const argv of [["inspect"], ["explain", "index.md"], ["verify", "--dry-run"]]) {
        const result = await run([...argv, "--cache-backend", backend], root)
        expect(result.code, `${argv.join(" ")}: ${result.stderr}`).toBe(0)
        expect(await listing(root)).toEqual(before)
      }
    },
  )

  it("finds a cache configured in code in the default directory, whatever its backend", async () => {
    // The build's configuration lives in its code (a Vite or Eleventy config): nothing tells the command.
    await populate({ backend: "sqlite" })
    const result = await run(["inspect"], root)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`sqlite cache at ${join(root, "node_modules/.cache/sitecache/cache.db")}`)
    expect(result.stdout).toContain("recent builds of blog")
    expect(await readdir(join(root, "node_modules/.cache/sitecache"))).toEqual(["cache.db"])
  })

  it("reads the `sitecache` key of package.json", async () => {
    await populate({ backend: "fs", dir: "build-cache" })
    await writeFile(join(root, "package.json"), JSON.stringify({ name: "site", sitecache: { dir: "build-cache" } }))
    const result = await run(["inspect", "--json"], root)
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({
      backend: "fs",
      location: join(root, "build-cache"),
      config: join(root, "package.json"),
    })
  })

  it("never runs a project's configuration module, which may open (or create) a cache", async () => {
    await populate({ backend: "fs" })
    const marker = join(root, "imported")
    await writeFiles(root, {
      "site.config.mjs": `import { writeFileSync } from "node:fs"\nwriteFileSync(${JSON.stringify(marker)}, "")\nexport default { cache: { backend: "sqlite" } }\n`,
    })
    const result = await run(["inspect"], root)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain("fs cache at")
    expect(await readdir(root)).not.toContain("imported")
    // Named with --config, it is read: that is what the flag is for.
    const named = await run(["inspect", "--config", "site.config.mjs"], root)
    expect(await readdir(root)).toContain("imported")
    expect(named.stderr).toContain(`no cache found, and nothing was created: looked for a sqlite cache at`)
  })

  it("a command that writes evicts nothing on its own: the build's size bound may be set in code", async () => {
    await populate({ backend: "sqlite" })
    const sizeOf = async (values: Record<string, string>, mode: "read-write" | "read-only") => {
      const cli = await loadConfig({ values, env: {}, cwd: root, allTiers: false })
      const cache = await openCache(cli, "sqlite", mode, () => {})
      try {
        return (cache.store as unknown as { maxSize: number }).maxSize
      } finally {
        await cache.close()
      }
    }
    expect(await sizeOf({}, "read-write")).toBe(Number.MAX_SAFE_INTEGER)
    // Read-only, the store shows the bound a build with this configuration has (`inspect` prints it).
    expect(await sizeOf({}, "read-only")).toBe(1024 ** 3)
    await writeFile(join(root, "sitecache.config.json"), JSON.stringify({ backend: "sqlite", maxSize: "2 GiB" }))
    expect(await sizeOf({}, "read-write")).toBe(2 * 1024 ** 3)
  })
})

describe("a backend's command options", () => {
  it("give Redis a command's patience unless the configuration sets it, and apply to a backend core does not know", async () => {
    const root = await tempProject()
    const load = (values: Record<string, string>, env: Record<string, string> = {}) =>
      loadConfig({ values, env, cwd: root, allTiers: false })
    // Resolving opens nothing: no server needs to listen at this address.
    const redis = await load({ "cache-backend": "redis", "redis-url": "redis://127.0.0.1:1" })
    expect(redis.config.redis).toEqual({ commandTimeout: 10_000, connectTimeout: 5_000, url: "redis://127.0.0.1:1" })
    await writeFiles(root, { "sitecache.config.json": JSON.stringify({ backend: "redis", redis: { commandTimeout: 250 } }) })
    expect((await load({})).config.redis).toEqual({ commandTimeout: 250, connectTimeout: 5_000 })
    // fs has none: its section stays as configured.
    expect((await load({ "cache-backend": "fs" })).config.fs).toBeUndefined()
  })
})
