/**
 * `sitecache verify` on a filesystem cache where an entry's file was
 * replaced by a symbolic link: the link is listed as a damaged entry and
 * removed (never followed), and the next run passes. It used to abort at the
 * first one ("`entries` failed: ELOOP", exit 1).
 */
import { symlink, unlink } from "node:fs/promises"
import { join } from "node:path"
import { createFsCache, type FsCache } from "@sitecache/backend-fs"
import { expect, it } from "vitest"
import { sitecache, tempProject } from "./helpers.js"

/** Where an entry of `cache` lives on disk. */
function entryFile(cache: FsCache, k: string): string {
  const id = cache.entryId(k)
  return join(cache.store.root, id.prefix.hex, id.key.hex.slice(0, 2), id.key.hex.slice(2))
}

it("verify lists an entry replaced by a symbolic link as damaged and removes it, then passes", async () => {
  const root = await tempProject()
  const dir = join(root, "cache")
  const cache = await createFsCache({ dir })
  await cache.putMany([
    ["a", 1],
    ["b", 2],
  ])
  await cache.close()
  await unlink(entryFile(cache, "a"))
  await symlink(entryFile(cache, "a"), entryFile(cache, "a"))
  const args = ["--cache-backend", "fs", "--cache-dir", dir]
  const first = await sitecache(["verify", "--json", ...args], { cwd: root })
  expect(first.stderr).not.toMatch(/ELOOP/)
  expect(first.code).toBe(1)
  const report = first.json<{
    checked: number
    ok: number
    damaged: number
    removed: number
    damagedEntries: { reason: string }[]
  }>()
  expect(report).toMatchObject({ checked: 2, ok: 1, damaged: 1, removed: 1 })
  expect(report.damagedEntries[0]?.reason).toMatch(/symbolic link in place of an entry file/)
  const again = await sitecache(["verify", ...args], { cwd: root })
  expect(again.code).toBe(0)
  expect(again.stdout).toMatch(/damaged: {2}0/)
})
