/**
 * Installed packages, read from disk without importing them: where a package
 * lives (its real path, through pnpm's symlinks), its name and version, the
 * versions of everything it depends on, and its ES module entry.
 *
 * Fingerprints are built from this, so a plugin upgrade (or an upgrade of
 * anything the plugin depends on) changes the key of every document it
 * renders, and a warm build never has to load the plugin to know that.
 */
import { existsSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs"
import { basename, dirname, join, resolve, sep } from "node:path"

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

/** What a resolver keeps of one installed package between builds (see `PackageResolver.remember`). */
export interface RememberedPackage {
  readonly name: string
  readonly version: string
  /** Real directories of its dependencies, as installed for it. */
  readonly dependencies: readonly string[]
  /** Paths and their `mtime:ctime:size` when it was read: if any differs, it is read again. */
  readonly stamps: readonly (readonly [path: string, stamp: string])[]
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
  #folders = new Map<string, boolean>()
  #realpaths = new Map<string, string | null>()
  #closures = new Map<string, readonly string[]>()
  #remembered = new Map<string, RememberedPackage>()
  #stamps = new Map<string, string>()
  #used = new Set<string>()
  #learned = false

  /** The real directory of package `name` as Node resolves it from `fromDir`, or `undefined`. */
  find(name: string, fromDir: string): string | undefined {
    return this.#find(name, fromDir, undefined)
  }

  /** `find`, adding to `consulted` every node_modules folder it looked in (their changes can change the answer). */
  #find(name: string, fromDir: string, consulted: Set<string> | undefined): string | undefined {
    // Node's lookup: `<dir>/node_modules/<name>` for `fromDir` and each of its ancestors. Lookups are
    // remembered per node_modules folder, which the packages of one install share (pnpm's
    // `.pnpm/<id>/node_modules`, the project's), so a closure of hundreds of packages costs about one
    // system call per package.
    let dir = resolve(fromDir)
    for (;;) {
      if (basename(dir) !== "node_modules") {
        const modules = dir + sep + "node_modules"
        const found = this.#lookup(modules, name)
        if (consulted !== undefined && this.#folders.get(modules) === true) consulted.add(modules)
        if (found !== undefined) return found
      }
      const parent = dirname(dir)
      if (parent === dir) return undefined
      dir = parent
    }
  }

  #lookup(modules: string, name: string): string | undefined {
    let exists = this.#folders.get(modules)
    if (exists === undefined) {
      exists = existsSync(modules)
      this.#folders.set(modules, exists)
    }
    if (!exists) return undefined
    const cacheKey = `${modules}\0${name}`
    const known = this.#found.get(cacheKey)
    if (known !== undefined) return known ?? undefined
    const candidate = modules + sep + name
    let found: string | null = null
    try {
      // Package managers link packages (pnpm: every one): follow the link, and resolve each
      // distinct target to its real path once.
      found = this.#realpath(resolve(modules, readlinkSync(candidate)))
    } catch (error) {
      const code = (error as { code?: string }).code
      // EINVAL: not a link, a directory in place (`modules` itself is a real path).
      if (code === "EINVAL" && existsSync(candidate + sep + "package.json")) found = candidate
      else if (code !== "ENOENT" && code !== "EINVAL" && code !== "ENOTDIR") throw error
    }
    this.#found.set(cacheKey, found)
    return found ?? undefined
  }

  #realpath(path: string): string | null {
    let real = this.#realpaths.get(path)
    if (real === undefined) {
      try {
        real = realpathSync.native(path)
      } catch {
        real = null
      }
      this.#realpaths.set(path, real)
    }
    return real
  }

  /** Name, version and manifest of the package in `dir`, or `undefined` when there is none. */
  info(dir: string): PackageInfo | undefined {
    const known = this.#infos.get(dir)
    if (known !== undefined) return known ?? undefined
    let info: PackageInfo | null = null
    try {
      const manifest = JSON.parse(readFileSync(dir + sep + "package.json", "utf8")) as PackageManifest
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
      const node = this.#node(packageDir)
      if (node === undefined) return
      out.add(`${node.name}@${node.version}`)
      for (const dependency of node.dependencies) visit(dependency)
    }
    visit(dir)
    const sorted = [...out].sort()
    this.#closures.set(dir, sorted)
    return sorted
  }

  /** Name and version of the package in `dir` (from what is remembered, when it still holds). */
  identify(dir: string): { readonly name: string; readonly version: string } | undefined {
    return this.#node(dir)
  }

  /**
   * Start from what an earlier build learned of the installed packages (see
   * `remembered()`): a package whose files and folders are unchanged is not
   * read again, so a warm build fingerprints a pipeline with a few hundred
   * `stat`s instead of reading every `package.json` it depends on.
   */
  remember(packages: Readonly<Record<string, RememberedPackage>>): void {
    for (const [dir, node] of Object.entries(packages)) if (!this.#remembered.has(dir)) this.#remembered.set(dir, node)
  }

  /** What to keep for the next build, when this resolver learned something new; else `undefined`. */
  remembered(): Record<string, RememberedPackage> | undefined {
    if (!this.#learned) return undefined
    // Only what this resolver used: what other installs or older versions needed is left behind.
    return Object.fromEntries([...this.#used].map((dir) => [dir, this.#remembered.get(dir) as RememberedPackage]))
  }

  /** One package of the dependency graph: remembered (when its stamps still hold) or read now. */
  #node(dir: string): RememberedPackage | undefined {
    const remembered = this.#remembered.get(dir)
    // What was remembered came from a cache: trust its shape only after checking it.
    if (
      Array.isArray(remembered?.stamps) &&
      Array.isArray(remembered.dependencies) &&
      remembered.stamps.every((entry) => Array.isArray(entry) && this.#stamp(String(entry[0])) === entry[1])
    ) {
      this.#used.add(dir)
      return remembered
    }
    const info = this.info(dir)
    if (info === undefined) return undefined
    const { dependencies, optionalDependencies, peerDependencies } = info.manifest
    const consulted = new Set<string>()
    const found: string[] = []
    for (const name of new Set([
      ...Object.keys(dependencies ?? {}),
      ...Object.keys(optionalDependencies ?? {}),
      ...Object.keys(peerDependencies ?? {}),
    ])) {
      const dependency = this.#find(name, dir, consulted)
      if (dependency !== undefined) found.push(dependency)
    }
    // What can change the answer: the package's folder (a nested node_modules appears), its
    // package.json (its version, its dependencies), and the folders its dependencies were looked up in
    // (a link replaced by an install).
    const stamps = [dir, dir + sep + "package.json", ...consulted].map((path) => [path, this.#stamp(path)] as const)
    const node: RememberedPackage = { name: info.name, version: info.version, dependencies: found, stamps }
    this.#remembered.set(dir, node)
    this.#used.add(dir)
    this.#learned = true
    return node
  }

  /** Modification time, change time and size of a path (`-` when missing), read once per resolver. */
  #stamp(path: string): string {
    let stamp = this.#stamps.get(path)
    if (stamp === undefined) {
      const stats = statSync(path, { throwIfNoEntry: false })
      stamp = stats === undefined ? "-" : `${stats.mtimeMs}:${stats.ctimeMs}:${stats.size}`
      this.#stamps.set(path, stamp)
    }
    return stamp
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
