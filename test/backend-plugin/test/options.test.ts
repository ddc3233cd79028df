/**
 * A plugin backend's options are checked by its own schema, the same way
 * whichever way it is named, and whether or not it is a tier.
 */
import { fileURLToPath } from "node:url"
import { createCache, resolveBackends } from "@sitecache/core"
import { describe, expect, it } from "vitest"

const MODULE = fileURLToPath(new URL("../src/index.ts", import.meta.url))
const open = { resolveFrom: import.meta.url }

describe("the jsonfile backend's options", () => {
  it("sit under its name, by name or by module, and a typo is refused naming the key", async () => {
    for (const backend of ["jsonfile", MODULE]) {
      await expect(createCache({ backend, jsonfile: { fiel: "x.json" } }, open)).rejects.toThrow(
        expect.objectContaining({
          code: "SITECACHE_BAD_OPTION",
          option: "jsonfile.fiel",
          message: expect.stringContaining("did you mean `jsonfile.file`?"),
        }),
      )
    }
  })

  it("are checked when the cache runs on another backend, so a configuration kept for later is sound now", async () => {
    await expect(createCache({ backend: "memory", jsonfile: { file: 42 } }, open)).rejects.toThrow(
      expect.objectContaining({ option: "jsonfile.file" }),
    )
    const cache = await createCache({ backend: "memory", jsonfile: { file: "kept.json" } }, open)
    expect(cache.location).toBe("this process's memory")
    await cache.close()
  })

  it("say where the cache lives before anything is opened", async () => {
    const { tiers } = await resolveBackends(
      { backend: ["memory", "jsonfile"], root: "/project", jsonfile: { file: "c.json" } },
      open,
    )
    expect(tiers.map(({ backend, context }) => [backend.name, backend.location(context), context.tier])).toEqual([
      ["memory", "this process's memory", true],
      ["jsonfile", "/project/c.json", true],
    ])
  })
})
