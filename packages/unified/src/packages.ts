/**
 * Installed packages, read from disk without importing them: where a package
 * lives (its real path, through pnpm's symlinks), its name and version, the
 * versions of everything it depends on, and its ES module entry.
 *
 * Fingerprints are built from this, so a plugin upgrade (or an upgrade of
 * anything the plugin depends on) changes the key of every document it
 * renders, and a warm build never has to load the plugin to know that.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"

/** What a package's `package.json` says, as far as fingerprints need it. */
export interface PackageInfo {
  readonly name: string
  readonly version: string
  /** Real path of the package's directory. */
  readonly dir: string
  readonly manifest: PackageManifest
}

interface PackageManifest {
  readonly name?: string
  readonly version?: string
  readonly main?: string
  readonly exports?: unknown
  readonly dependencies?: Readonly<Record<string, string>>
  readonly optionalDependencies?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
  readonly devDependencies?: Readonly<Record<string, string>>
}

/** Conditions of the `exports` map an ES module import matches, in Node's order of preference by key order. */
const IMPORT_CONDITIONS = new Set(["node", "import", "module-sync", "default"])

/** The name of the package a bare specifier refers to: `yaml`, `@scope/name` (`@scope/name/sub` too). */
export function packageNameOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.includes(":")) return undefined
  const segments = specifier.split("/")
  const name = specifier.startsWith("@") ? segments.slice(0, 2).join("/") : segments[0]
  return name === undefined || name === "" || name === "@" ? undefined : name
}

/**
 * Finds and reads installed packages; everything it reads is remembered, so
 * one resolver per build reads each `package.json` once.
 */
export class PackageResolver {
  #infos = new Map<string, PackageInfo | null>()
  #found = new Map<string, string | null>()
  #closures = new Map<string, readonly string[]>()

  /** The real directory of package `name` as Node resolves it from `fromDir`, or `undefined`. */
  find(name: string, fromDir: string): string | undefined {
    const cacheKey = `${fromDir}\0${name}`
    const known = this.#found.get(cacheKey)
    if (known !== undefined) return known ?? undefined
    let found: string | null = null
    let dir = resolve(fromDir)
    for (;;) {
      if (basename(dir) !== "node_modules") {
        const candidate = join(dir, "node_modules", name)
        if (existsSync(join(candidate, "package.json"))) {
          found = realpathSync.native(candidate)
          break
        }
      }
      const parent = dirname(dir)
      if (parent === dir) break
      dir = parent
    }
    this.#found.set(cacheKey, found)
    return found ?? undefined
  }

  /** Name, version and manifest of the package in `dir`, or `undefined` when there is none. */
  info(dir: string): PackageInfo | undefined {
    const known = this.#infos.get(dir)
    if (known !== undefined) return known ?? undefined
    let info: PackageInfo | null = null
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageManifest
      info = { name: manifest.name ?? "", version: manifest.version ?? "0.0.0", dir, manifest }
    } catch {
      info = null
    }
    this.#infos.set(dir, info)
    return info ?? undefined
  }

  /** The package (nearest `package.json` with a name) that contains `file`. */
  ownerOf(file: string): PackageInfo | undefined {
    let dir = dirname(resolve(file))
    for (;;) {
      const info = existsSync(join(dir, "package.json")) ? this.info(dir) : undefined
      if (info !== undefined && info.name !== "") return info
      const parent = dirname(dir)
      if (parent === dir) return undefined
      dir = parent
    }
  }

  /**
   * `name@version` of the package in `dir` and of every package it depends on
   * (dependencies, optional and peer dependencies, transitively, as installed
   * for it), sorted. A change anywhere in it can change what the package does.
   */
  closure(dir: string): readonly string[] {
    const known = this.#closures.get(dir)
    if (known !== undefined) return known
    const seen = new Set<string>()
    const out = new Set<string>()
    const visit = (packageDir: string): void => {
      if (seen.has(packageDir)) return
      seen.add(packageDir)
      const info = this.info(packageDir)
      if (info === undefined) return
      out.add(`${info.name}@${info.version}`)
      const { dependencies, optionalDependencies, peerDependencies } = info.manifest
      for (const name of new Set([
        ...Object.keys(dependencies ?? {}),
        ...Object.keys(optionalDependencies ?? {}),
        ...Object.keys(peerDependencies ?? {}),
      ])) {
        const found = this.find(name, packageDir)
        if (found !== undefined) visit(found)
      }
    }
    visit(dir)
    const sorted = [...out].sort()
    this.#closures.set(dir, sorted)
    return sorted
  }

  /** The file an ES module `import` of the package in `dir` loads. */
  entry(dir: string): string {
    const info = this.info(dir)
    if (info === undefined) throw new Error(`no package.json in ${dir}`)
    const { exports, main } = info.manifest
    if (exports !== undefined && exports !== null) {
      const root =
        typeof exports === "object" && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith("."))
          ? (exports as Record<string, unknown>)["."]
          : exports
      const target = exportTarget(root)
      if (target !== undefined) return join(dir, target)
    }
    const file = join(dir, main ?? "index.js")
    if (existsSync(file)) return file
    for (const extension of [".js", ".mjs", ".cjs", "/index.js"]) if (existsSync(file + extension)) return file + extension
    return file
  }
}

function exportTarget(target: unknown): string | undefined {
  if (typeof target === "string") return target
  if (Array.isArray(target)) {
    for (const item of target) {
      const found = exportTarget(item)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (target !== null && typeof target === "object") {
    for (const [condition, value] of Object.entries(target)) {
      if (!IMPORT_CONDITIONS.has(condition)) continue
      const found = exportTarget(value)
      if (found !== undefined) return found
    }
  }
  return undefined
}
