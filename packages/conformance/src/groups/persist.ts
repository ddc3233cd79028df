import { describe, expect, it } from "vitest"
import { runChildScript } from "../child.js"
import type { Harness } from "../target.js"
import { roundTripValues } from "./round-trip.js"

/** Values that survive a trip through another process, sent back by their v8 serialization. */
function childScript(childModule: string, location: string, body: string): string {
  return `
    import { serialize } from "node:v8"
    const { default: open } = await import(${JSON.stringify(childModule)})
    const cache = await open(${JSON.stringify(location)})
    ${body}
    await cache.close()
  `
}

export function persist(h: Harness): void {
  const childModule = h.target.childModule
  if (childModule === undefined) throw new Error(`${h.target.name}: a persistent target needs \`childModule\``)
  describe(`${h.target.name}: persist and reopen in another process`, () => {
    const values = roundTripValues().filter(([name]) => !name.startsWith("4 MiB"))

    it("a new process reads back exactly what persist() made durable", async () => {
      const { cache, location } = await h.fresh()
      for (const [name, value] of values) await cache.put(name, value)
      await cache.persist()
      await cache.close()
      const out = await runChildScript(
        childScript(
          childModule,
          location,
          `const got = await cache.getMany(${JSON.stringify(values.map(([name]) => name))})
           process.stdout.write(JSON.stringify(got.map((v) => v === undefined ? null : serialize(v).toString("base64"))))`,
        ),
      )
      const got = JSON.parse(out) as (string | null)[]
      // Compare values, not bytes: v8 writes a decoded array in another (equally valid) layout than the original.
      const { deserialize } = await import("node:v8")
      expect(got.map((b64) => (b64 === null ? undefined : deserialize(Buffer.from(b64, "base64"))))).toStrictEqual(
        values.map(([, value]) => value),
      )
    })

    it("what another process put and persisted is read here, and inspect counts it", async () => {
      const { location } = await h.fresh()
      await runChildScript(
        childScript(
          childModule,
          location,
          `for (let i = 0; i < 50; i++) await cache.put("child-" + i, { i, html: "<p>" + i + "</p>" })
           await cache.persist()`,
        ),
      )
      const cache = await h.reopen(location)
      const got = await cache.getMany(Array.from({ length: 50 }, (_, i) => `child-${i}`))
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => ({ i, html: `<p>${i}</p>` })))
      expect((await cache.inspect()).entryCount).toBe(50)
    })

    it("entries survive close and reopen in this process", async () => {
      const { cache, location } = await h.fresh()
      await cache.put("k", new Map([["v", 1]]))
      await cache.close()
      const again = await h.reopen(location)
      expect(await again.get("k")).toStrictEqual(new Map([["v", 1]]))
      expect(await again.put("k", "other")).toBe(false)
    })
  })
}
