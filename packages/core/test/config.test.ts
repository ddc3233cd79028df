import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import {
  BackendMissingError,
  BadOptionError,
  createCache,
  createMemoryCache,
  createNullCache,
  MemoryStore,
  normalizeCacheConfig,
  parseDuration,
  parseSize,
  resolveCacheConfig,
  StoreCache,
} from "../src/index.js"

describe("parseSize / parseDuration", () => {
  it("reads sizes with binary units", () => {
    expect(parseSize("500 MB")).toBe(500 * 1024 ** 2)
    expect(parseSize("1.5GiB")).toBe(1.5 * 1024 ** 3)
    expect(parseSize("64k")).toBe(65_536)
    expect(parseSize(1234)).toBe(1234)
    expect(() => parseSize("lots")).toThrow(BadOptionError)
    expect(() => parseSize("-1 MB")).toThrow(/`maxSize`/)
    expect(() => parseSize(0)).toThrow(/`maxSize`/)
  })

  it("reads durations", () => {
    expect(parseDuration("30d")).toBe(30 * 86_400_000)
    expect(parseDuration("12h")).toBe(12 * 3_600_000)
    expect(parseDuration("500ms")).toBe(500)
    expect(parseDuration("2w")).toBe(14 * 86_400_000)
    expect(parseDuration(10)).toBe(10)
    expect(() => parseDuration("soon")).toThrow(/`ttl`/)
  })
})

describe("normalizeCacheConfig", () => {
  it("applies defaults: fs backend under node_modules/.cache/sitecache of the root", () => {
    const config = normalizeCacheConfig({ root: "/project" })
    expect(config).toMatchObject({ backend: "fs", mode: "read-write", strict: false, root: resolve("/project") })
    expect(config.dir).toBe(join(resolve("/project"), "node_modules", ".cache", "sitecache"))
    expect(normalizeCacheConfig({ root: "/p", dir: "cache" }).dir).toBe(resolve("/p/cache"))
  })

  it("names the bad option", () => {
    const cases: [unknown, RegExp][] = [
      [{ backend: 42 }, /`backend`: expected a backend name/],
      [{ backend: ["memory", ""] }, /`backend\[1\]`/],
      [{ backend: [] }, /`backend`/],
      [{ mode: "readonly" }, /`mode`/],
      [{ maxsize: "1 GB" }, /`maxsize`: unknown option \(did you mean `maxSize`\?\)/],
      [{ maxSize: "big" }, /`maxSize`/],
      [{ ttl: "forever" }, /`ttl`/],
      [{ dir: 42 }, /`dir`/],
      [{ redis: "redis://x" }, /`redis`: unknown option.*a backend's own options under its name/],
      [{ strict: "yes" }, /`strict`/],
      [{ secret: "short" }, /`secret`: a secret needs at least 32 bytes/],
    ]
    for (const [config, message] of cases) {
      expect(() => normalizeCacheConfig(config as never)).toThrow(message)
      expect(() => normalizeCacheConfig(config as never)).toThrow(expect.objectContaining({ code: "SITECACHE_BAD_OPTION" }))
    }
  })

  it("keeps each backend's options object, by name, for that backend to check", () => {
    const config = normalizeCacheConfig({ backend: "sqlite", sqlite: { busyTimeout: 5 }, redis: { url: "redis://h:1" } })
    expect(config.backendOptions).toEqual({ sqlite: { busyTimeout: 5 }, redis: { url: "redis://h:1" } })
  })
})

describe("createCache", () => {
  it("opens memory and null caches from the core", async () => {
    const memory = await createCache({ backend: "memory", maxSize: "1 MB" })
    expect(memory.name).toBe("memory")
    await memory.put("k", 1)
    expect(await memory.get("k")).toBe(1)
    await memory.close()
    const off = await createCache({ backend: "memory", mode: "off" })
    expect(off.name).toMatch(/null/)
    expect(await off.put("k", 1)).toBe(false)
  })

  it("honours read-only and write-only modes", async () => {
    const readOnly = await createCache({ backend: "memory", mode: "read-only" })
    expect(await readOnly.put("k", 1)).toBe(false)
    const writeOnly = await createCache({ backend: "memory", mode: "write-only" })
    expect(await writeOnly.put("k", 1)).toBe(true)
    expect(await writeOnly.get("k")).toBeUndefined()
  })

  it("checks each backend's options with that backend's schema, in use or not, naming the key", async () => {
    await expect(createCache({ backend: "memory", memory: { maxSize: "huge" } })).rejects.toThrow(/`memory.maxSize`/)
    await expect(createCache({ backend: "null", memory: { maxSzie: 1 } } as never)).rejects.toThrow(
      expect.objectContaining({ option: "memory.maxSzie", message: expect.stringContaining("did you mean `memory.maxSize`?") }),
    )
    // An object under a name no installed backend has, close to a tier's or an option's: a typo.
    await expect(createCache({ backend: "memory", memroy: { maxSize: 1 } } as never)).rejects.toThrow(
      expect.objectContaining({
        option: "memroy",
        message: expect.stringMatching(/did you mean `memory`\?.*no backend named "memroy"/),
      }),
    )
    await expect(createCache({ backend: "memory", maxSiz: { bytes: 1 } } as never)).rejects.toThrow(
      expect.objectContaining({ option: "maxSiz", message: expect.stringContaining("did you mean `maxSize`?") }),
    )
    // The options of a backend neither used nor installed here (kept for the CI that installs it) are left alone.
    const cache = await createCache({ backend: "memory", mongodb: { url: "mongodb://x" } } as never)
    expect(cache.location).toBe("this process's memory")
    await cache.close()
  })

  it("refuses a backend name nothing provides: a near miss suggests the installed one", async () => {
    await expect(createCache({ backend: "memroy" })).rejects.toThrow(
      expect.objectContaining({ option: "backend", message: expect.stringContaining('did you mean "memory"?') }),
    )
    await expect(createCache({ backend: ["memory", "mongo"] })).rejects.toThrow(
      expect.objectContaining({ code: "SITECACHE_BACKEND_MISSING", packageName: "@sitecache/backend-mongo" }),
    )
    await expect(createCache({ backend: "./no/such/backend.js", root: "/project" })).rejects.toThrow(
      expect.objectContaining({
        option: "backend",
        message: expect.stringContaining("no backend module at /project/no/such/backend.js"),
      }),
    )
    await expect(createCache({ backend: "@nobody/no-such-backend" })).rejects.toThrow(
      expect.objectContaining({
        code: "SITECACHE_BACKEND_MISSING",
        message: expect.stringContaining("no package `@nobody/no-such-backend`"),
      }),
    )
    // A module that is no backend.
    await expect(createCache({ backend: new URL("../src/format.ts", import.meta.url).href })).rejects.toThrow(
      expect.objectContaining({ option: "backend", message: expect.stringContaining("is no sitecache backend") }),
    )
  })

  it("a backend name that is also one of Node's modules (`fs`) is never that module", async () => {
    const error = await createCache({ backend: "fs", root: "/" }, { resolveFrom: "/nonexistent/x.js" }).catch((e: unknown) => e)
    if (error instanceof StoreCache) await error.close()
    else expect(error).toMatchObject({ code: "SITECACHE_BACKEND_MISSING", packageName: "@sitecache/backend-fs" })
  })

  it("names the package to install when a backend is missing", async () => {
    // The core package depends on no backend; resolve from a directory that has none.
    const error = await createCache({ backend: "redis", root: "/" }, { resolveFrom: "/nonexistent/x.js" }).catch(
      (e: unknown) => e,
    )
    if (error instanceof BackendMissingError) {
      expect(error.code).toBe("SITECACHE_BACKEND_MISSING")
      expect(error.message).toMatch(/`@sitecache\/backend-redis`.*pnpm add @sitecache\/backend-redis/)
    } else {
      // Hoisted installs can find it anyway; then it opened (close it) or failed on its own options.
      if (error instanceof StoreCache) await error.close()
      else expect(error).toBeInstanceOf(Error)
    }
  })
})

describe("resolveCacheConfig", () => {
  const config = { backend: "sqlite", dir: "cache" } as const

  it("maps --no-cache and SITECACHE=off to the null cache", () => {
    expect(resolveCacheConfig({ config, argv: ["--no-cache"] }).mode).toBe("off")
    expect(resolveCacheConfig({ config, env: { SITECACHE: "off" } }).mode).toBe("off")
    expect(resolveCacheConfig({ config, env: { SITECACHE: "OFF" } }).mode).toBe("off")
  })

  it("maps --cache=read|write|off and SITECACHE to modes; flags win over the environment", () => {
    expect(resolveCacheConfig({ config, argv: ["--cache=read"] }).mode).toBe("read-only")
    expect(resolveCacheConfig({ config, argv: ["--cache", "write"] }).mode).toBe("write-only")
    expect(resolveCacheConfig({ config, argv: ["--cache=off"] }).mode).toBe("off")
    expect(resolveCacheConfig({ config, env: { SITECACHE: "read" }, argv: ["--cache=read-write"] }).mode).toBe("read-write")
    expect(() => resolveCacheConfig({ argv: ["--cache=sometimes"] })).toThrow(/`--cache`/)
  })

  it("overrides dir, backend and redis url; a comma list makes tiers", () => {
    const resolved = resolveCacheConfig({
      config,
      argv: ["--cache-dir", "/tmp/c", "--cache-backend=memory,redis", "--redis-url", "redis://127.0.0.1:1"],
      env: { SITECACHE_DIR: "/ignored", SITECACHE_BACKEND: "fs" },
    })
    expect(resolved).toMatchObject({ dir: "/tmp/c", backend: ["memory", "redis"], redis: { url: "redis://127.0.0.1:1" } })
    expect(resolveCacheConfig({ config, env: { SITECACHE_DIR: "/env", SITECACHE_BACKEND: "fs" } })).toMatchObject({
      dir: "/env",
      backend: "fs",
    })
    expect(() => resolveCacheConfig({ argv: ["--cache-backend", "fs,fs"] })).toThrow(/`--cache-backend\[1\]`/)
    expect(() => resolveCacheConfig({ argv: ["--cache-dir"] })).toThrow(/`--cache-dir`: expects a value/)
  })

  it("sets `<backend>.url` from `--<backend>-url` or `SITECACHE_<BACKEND>_URL` for the backends it names, core knowing none", () => {
    const redis = { backend: "redis", redis: { namespace: "site" } } as const
    expect(resolveCacheConfig({ config: redis, env: { SITECACHE_REDIS_URL: "redis://127.0.0.1:2" } }).redis).toEqual({
      namespace: "site",
      url: "redis://127.0.0.1:2",
    })
    expect(
      resolveCacheConfig({ config: redis, env: { SITECACHE_REDIS_URL: "redis://env" }, argv: ["--redis-url=redis://flag"] })
        .redis,
    ).toMatchObject({ url: "redis://flag" })
    // A backend core has never heard of gets the same flag and variable.
    const plugin = resolveCacheConfig({
      argv: ["--cache-backend", "my-kv", "--my-kv-url", "kv://127.0.0.1"],
    }) as Record<string, unknown>
    expect(plugin["my-kv"]).toEqual({ url: "kv://127.0.0.1" })
    expect(resolveCacheConfig({ env: { SITECACHE_BACKEND: "my-kv", SITECACHE_MY_KV_URL: "kv://env" } })).toMatchObject({
      "my-kv": { url: "kv://env" },
    })
    // A host tool's own flag that looks alike is not a cache option, and neither is a backend not configured.
    const other = resolveCacheConfig({
      config: { backend: "sqlite" },
      argv: ["--site-url", "https://example.org", "--redis-url", "x"],
    })
    expect(other).toEqual({ backend: "sqlite" })
  })

  it("leaves the input config untouched", () => {
    const input = { backend: "fs" as const }
    resolveCacheConfig({ config: input, argv: ["--no-cache"] })
    expect(input).toEqual({ backend: "fs" })
  })
})

describe("one validator for every way to open a cache", () => {
  const typo = { maxSzie: "1 GB" }
  it("refuses a typo, suggesting the option meant: createCache, createMemoryCache, createNullCache, new StoreCache", async () => {
    const refusals: [string, () => unknown][] = [
      ["createCache", () => createCache(typo as never)],
      ["createMemoryCache", () => createMemoryCache(typo as never)],
      ["createNullCache", () => createNullCache({ compresAbove: 10 } as never)],
      ["new StoreCache", () => new StoreCache(new MemoryStore(), { keyprefix: "v1" } as never)],
    ]
    for (const [way, open] of refusals) {
      const error = await Promise.resolve()
        .then(open)
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        )
      expect(error, way).toBeInstanceOf(BadOptionError)
      expect((error as Error).message, way).toMatch(/unknown option \(did you mean `(maxSize|compressAbove|keyPrefix)`\?\)/)
    }
    // Values are checked the same way too.
    expect(() => createMemoryCache({ maxSize: "lots" as never })).toThrow(/`maxSize`: expected a size/)
    expect(() => createMemoryCache({ mode: "readonly" as never })).toThrow(/`mode`: expected "read-write"/)
    expect(() => createNullCache({ onWarning: "stderr" as never })).toThrow(/`onWarning`: expected a function/)
  })

  it("refuses a backend listed twice as tiers", () => {
    for (const backend of [
      ["memory", "memory"],
      ["fs", "sqlite", "fs"],
    ]) {
      expect(() => normalizeCacheConfig({ backend } as never)).toThrow(
        expect.objectContaining({ code: "SITECACHE_BAD_OPTION", message: expect.stringMatching(/is already tier 0/) }),
      )
    }
    expect(() => resolveCacheConfig({ env: { SITECACHE_BACKEND: "memory,memory" } })).toThrow(
      expect.objectContaining({ option: "SITECACHE_BACKEND[1]" }),
    )
    expect(normalizeCacheConfig({ backend: ["memory", "fs"] }).backend).toEqual(["memory", "fs"])
  })
})
