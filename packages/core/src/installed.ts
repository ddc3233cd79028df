/**
 * Installed versions of packages, for keys: an upgrade of a plugin's package
 * misses even where its functions' source text does not show it.
 */
import { readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"

const versions = new Map<string, string | null>()

/**
 * The installed version of `packageName` as seen from `root`: the first
 * `node_modules/<name>/package.json` found walking up from `root` (works
 * for packages whose `exports` hide their `package.json`). `null` when none.
 */
export function installedVersion(packageName: string, root: string): string | null {
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(packageName)) return null
  const cacheKey = `${root}\0${packageName}`
  const known = versions.get(cacheKey)
  if (known !== undefined) return known
  let found: string | null = null
  for (let dir = resolve(root); ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "node_modules", packageName, "package.json"), "utf8")) as {
        version?: unknown
      }
      if (typeof manifest.version === "string") {
        found = manifest.version
        break
      }
    } catch {
      // not installed here: look further up
    }
    if (dirname(dir) === dir) break
  }
  versions.set(cacheKey, found)
  return found
}
