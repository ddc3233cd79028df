import { readFileSync } from "node:fs"
import { expect, it } from "vitest"
import * as api from "../src/index.js"

it("pins the public exports of @sitecache/unified", () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "ADAPTER_VERSION",
      "PackageResolver",
      "UnsupportedError",
      "cacheStatus",
      "cached",
      "cachedRun",
      "dependOn",
      "dependenciesOf",
      "pipeline",
      "valueBytes",
    ]
  `)
})

it("reports the package's own version in fingerprints", () => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
  expect(api.ADAPTER_VERSION).toBe(manifest.version)
})
