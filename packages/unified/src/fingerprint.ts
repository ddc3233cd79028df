/**
 * The fingerprint of a processor: what, besides a document's content and
 * path, decides its output. It is built plugin by plugin (docs/architecture.md, "Keys and prefixes"):
 *
 * - a plugin from a package: the package's name and installed version, and
 *   the versions of everything it depends on as installed for it (a
 *   `highlight.js` upgrade under `rehype-highlight` changes the output too);
 * - a local plugin: a hash of its source file and of the local modules it
 *   imports (and the installed versions of the packages those import); a
 *   plugin given as a function whose module is unknown: its source text;
 * - its options (the parameters given to `use`), by `fingerprint` of
 *   `@sitecache/core` (the one value walk every adapter uses: canonical,
 *   total, functions by their source);
 * - the processor's settings, `unified`'s own version, this adapter's
 *   version and the user's `version`.
 *
 * Where a plugin's options (or a plugin function of no known package, or
 * the settings) cannot be fingerprinted soundly (a bound function, a Proxy,
 * state behind private fields...), the fingerprint says which plugin and
 * why (`uncacheable`), and every document of the processor is processed
 * without the cache: a hit could be stale, since the key cannot see a
 * change there.
 *
 * Identifying a plugin by its package (name, version, installed
 * dependencies) stays here, not in core: it imports a project's unified
 * packages to match a plugin function by identity, which only a unified
 * pipeline needs; the Vite and Eleventy adapters name their plugins
 * themselves and use core's `installedVersion`.
 *
 * Each plugin's fingerprint is kept under its own name
 * (`plugin:remark-gfm@4.0.1`), so the build manifest can tell which plugin
 * changed when every document misses.
 *
 * Slightly over ~400 lines: the processor walk, the plugin resolution and
 * the local-source hashing above are one class (`Fingerprinter`), sharing its
 * caches of loaded modules, identified plugins and local sources.
 */
import { readFileSync, statSync } from "node:fs"
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import {
  adapterIdentity,
  BadOptionError,
  type Cache,
  contentHash,
  describeUnsound,
  fingerprint as fingerprintValue,
  type KeyPart,
  key,
  type Uncacheable,
  type UnsoundPart,
} from "@sitecache/core"
import { PackageResolver, packageNameOf, type RememberedPackage } from "./packages.js"

/** This adapter (its package's name and version) and its stored snapshot format: both invalidate every entry when they change. */
const ADAPTER = adapterIdentity(new URL("../package.json", import.meta.url))
export const ADAPTER_VERSION: string = ADAPTER.version
export const SNAPSHOT_FORMAT = 2

/** One plugin of a fingerprint. */
export interface PluginFingerprint {
  /** `remark-gfm@4.0.1`, `local:src/plugins/layout.ts`, or `function:remarkThing` (a function of unknown origin). */
  readonly label: string
  /** Hex hash of everything about the plugin that can change the output: code, dependencies, options. */
  readonly hash: string
  /** Set when the plugin's options or function cannot be fingerprinted soundly: why (the first reason found). */
  readonly uncacheable?: string
}

export interface Fingerprint {
  /** Hex hash of the whole pipeline, in order. */
  readonly pipeline: string
  readonly plugins: readonly PluginFingerprint[]
  /** Key parts named after each plugin (`plugin:remark-gfm@4.0.1` → hash), for `sitecache explain`. */
  readonly parts: Readonly<Record<string, string>>
  /**
   * Set when a part cannot be fingerprinted soundly: which plugin (or the
   * processor's settings) and why. The processor's documents are then
   * processed without the cache.
   */
  readonly uncacheable?: Uncacheable
}

/** A plugin as `processor.attachers` holds it: the function and the parameters given to `use`. */
export type Attacher = readonly [plugin: unknown, ...parameters: unknown[]]

/** How plugins are located: a package, a local module, or a function. */
export type PluginSource =
  | { readonly kind: "package"; readonly name: string }
  | { readonly kind: "module"; readonly url: URL }
  | { readonly kind: "function"; readonly plugin: unknown }

export interface FingerprintOptions {
  /** Where packages resolve from, and what local paths are relative to. */
  readonly root: string
  /**
   * Where to remember what was learned of installed packages between builds
   * (used only with the fingerprinter's own resolver).
   */
  readonly memory?: Cache
  /** Extra package names to match plugin functions against. */
  readonly packages?: readonly string[]
  readonly resolver?: PackageResolver
}

/** Turn a list of located plugins, their options and settings into a fingerprint. */
export class Fingerprinter {
  readonly root: string
  readonly resolver: PackageResolver
  #packages: readonly string[]
  #memory: Cache | undefined
  #modules = new Map<string, Promise<Record<string, unknown> | undefined>>()
  #identified = new Map<unknown, Promise<PluginFingerprintBase>>()
  /** The text of each package's own modules (`null`: cannot be told), for `#mayDefine`. */
  #ownSources = new Map<string, string[] | null>()

  constructor(options: FingerprintOptions) {
    this.root = resolve(options.root)
    this.resolver = options.resolver ?? new PackageResolver()
    this.#packages = options.packages ?? []
    this.#memory = options.resolver === undefined ? options.memory : undefined
  }

  /** The fingerprint of plugins in order, with their parameters, and the processor's settings. */
  async fingerprint(
    plugins: readonly { readonly source: PluginSource; readonly parameters: readonly unknown[] }[],
    settings: unknown,
  ): Promise<Fingerprint> {
    const memoryKey = key("@sitecache/unified:installed-packages", ADAPTER_VERSION, this.root)
    if (this.#memory !== undefined) {
      const known = await this.#memory.get<Record<string, RememberedPackage>>(memoryKey)
      if (known !== undefined && known !== null && typeof known === "object") this.resolver.remember(known)
    }
    const fingerprints: PluginFingerprint[] = []
    let uncacheable: Uncacheable | undefined
    for (const { source, parameters } of plugins) {
      const base = await this.#base(source)
      const options = parameters.map((parameter) => fingerprintValue(parameter))
      const reason = base.unsound ?? parameterUnsound(options.map((option) => option.unsound))
      fingerprints.push({
        label: base.label,
        hash: key({ code: base.code, options: options.map((option) => option.key) }).hex,
        ...(reason === undefined ? {} : { uncacheable: reason }),
      })
      if (reason !== undefined) uncacheable ??= { step: `plugin ${base.label}`, reason }
    }
    const settingsPrint = fingerprintValue(settings ?? null)
    const [unsoundSetting] = settingsPrint.unsound
    if (unsoundSetting !== undefined)
      uncacheable ??= { step: "processor settings", reason: describeUnsound(unsoundSetting, "setting") }
    const unifiedDir =
      this.resolver.find("unified", this.root) ?? this.resolver.find("unified", dirname(fileURLToPath(import.meta.url)))
    const pipeline = key({
      adapter: `${ADAPTER.id}/${SNAPSHOT_FORMAT}`,
      unified: unifiedDir === undefined ? null : this.resolver.closure(unifiedDir),
      settings: settingsPrint.key,
      plugins: fingerprints.map((plugin) => plugin.hash),
    }).hex
    const learned = this.#memory === undefined ? undefined : this.resolver.remembered()
    if (this.#memory !== undefined && learned !== undefined) {
      await this.#memory.delete(memoryKey)
      await this.#memory.put(memoryKey, learned)
    }
    const parts: Record<string, string> = {}
    for (const plugin of fingerprints) {
      let name = `plugin:${plugin.label}`
      for (let n = 2; name in parts; n++) name = `plugin:${plugin.label}#${n}`
      parts[name] = plugin.hash
    }
    return { pipeline, plugins: fingerprints, parts, ...(uncacheable === undefined ? {} : { uncacheable }) }
  }

  /** Locate a plugin function among installed packages; `undefined` when it comes from none of them. */
  async packageOf(plugin: unknown): Promise<string | undefined> {
    for (const [name, guessed] of this.#candidates(plugin)) {
      const dir = this.resolver.find(name, this.root)
      if (dir === undefined) continue
      // A project's other unified packages are only guesses: read before importing (a package and its dependencies).
      if (guessed && !this.#mayDefine(dir, plugin)) continue
      const module = await this.#import(dir)
      if (module === undefined) continue
      if (module.default === plugin || Object.values(module).includes(plugin)) return dir
    }
    return undefined
  }

  #base(source: PluginSource): Promise<PluginFingerprintBase> {
    const id = source.kind === "package" ? `package:${source.name}` : source.kind === "module" ? source.url.href : source.plugin
    let found = this.#identified.get(id)
    if (found === undefined) {
      found = this.#computeBase(source)
      this.#identified.set(id, found)
    }
    return found
  }

  async #computeBase(source: PluginSource): Promise<PluginFingerprintBase> {
    switch (source.kind) {
      case "package": {
        const dir = this.resolver.find(source.name, this.root)
        if (dir === undefined) {
          throw new BadOptionError(
            "plugins",
            `cannot find the plugin package \`${source.name}\` from ${this.root}: is it installed?`,
          )
        }
        return this.#packageBase(dir)
      }
      case "module": {
        const file = localModuleFile(source.url)
        return { label: `local:${this.#relative(file)}`, code: this.#localSource(file) }
      }
      case "function": {
        const dir = await this.packageOf(source.plugin)
        if (dir !== undefined) return this.#packageBase(dir)
        const name = (typeof source.plugin === "function" && source.plugin.name) || "anonymous"
        // Its source text, its own properties, its prototype: what the fingerprint of any value is.
        const { key: code, unsound } = fingerprintValue(source.plugin)
        const [first] = unsound
        return {
          label: `function:${name}`,
          code,
          ...(first === undefined ? {} : { unsound: describeUnsound(first, "plugin function") }),
        }
      }
    }
  }

  #packageBase(dir: string): PluginFingerprintBase {
    const info = this.resolver.identify(dir)
    return { label: `${info?.name ?? "unknown"}@${info?.version ?? "0.0.0"}`, code: { packages: this.resolver.closure(dir) } }
  }

  /** Content hashes of a local module and the local modules it imports; versions of the packages they import. */
  #localSource(entry: string): { files: Record<string, string>; packages: string[] } {
    const files: Record<string, string> = {}
    const packages = new Set<string>()
    const visit = (file: string): void => {
      const name = this.#relative(file)
      if (name in files) return
      let text: string
      try {
        text = readFileSync(file, "utf8")
      } catch {
        files[name] = "missing"
        return
      }
      files[name] = contentHash(text)
      for (const specifier of importedSpecifiers(text)) {
        if (specifier.startsWith(".")) {
          visit(localModuleFile(pathToFileURL(resolve(dirname(file), specifier))))
          continue
        }
        const packageName = packageNameOf(specifier)
        const dir = packageName === undefined ? undefined : this.resolver.find(packageName, dirname(file))
        if (dir !== undefined) for (const item of this.resolver.closure(dir)) packages.add(item)
      }
    }
    visit(entry)
    return { files, packages: [...packages].sort() }
  }

  #relative(file: string): string {
    const rel = relative(this.root, file)
    return rel.startsWith("..") || isAbsolute(rel) ? file.split(sep).join("/") : rel.split(sep).join("/")
  }

  /**
   * Packages a function may come from: its name in kebab case, `packages`,
   * then the project's unified-ecosystem dependencies (`guessed`).
   */
  *#candidates(plugin: unknown): Iterable<readonly [name: string, guessed: boolean]> {
    const seen = new Set<string>()
    const name = typeof plugin === "function" ? plugin.name : ""
    const kebab = name
      .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
      .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
      .toLowerCase()
    const project = this.resolver.ownerOf(resolve(this.root, "package.json"))?.manifest
    const dependencies = [
      ...Object.keys(project?.dependencies ?? {}),
      ...Object.keys(project?.devDependencies ?? {}),
      ...Object.keys(project?.optionalDependencies ?? {}),
    ]
    const ecosystem = /(^|[/-])(remark|rehype|retext|recma|unified|mdx|micromark)([/-]|$)/
    const named = [kebab, ...this.#packages]
    for (const candidate of [...named, ...dependencies.filter((dependency) => ecosystem.test(dependency))]) {
      if (candidate === "" || seen.has(candidate)) continue
      seen.add(candidate)
      yield [candidate, !named.includes(candidate)]
    }
  }

  /**
   * Whether the package in `dir` may define `plugin`: the function's source
   * text appears in one of the package's own modules (its entry and the
   * relative imports and requires it reaches). True whenever that cannot be
   * told (native or bound functions, `#` import maps, unreadable files): a
   * function not found here is fingerprinted by its source, so only a sure
   * "no" skips the import. Without it, a function from no package made the
   * fingerprinter import every remark and rehype package of the project,
   * seconds in a project with dozens of plugins.
   */
  #mayDefine(dir: string, plugin: unknown): boolean {
    if (typeof plugin !== "function") return true
    const source = Function.prototype.toString.call(plugin)
    if (source.includes("[native code]")) return true
    let texts = this.#ownSources.get(dir)
    if (texts === undefined) {
      texts = packageSources(this.resolver.entry(dir))
      this.#ownSources.set(dir, texts)
    }
    return texts === null || texts.some((text) => text.includes(source))
  }

  #import(dir: string): Promise<Record<string, unknown> | undefined> {
    let module = this.#modules.get(dir)
    if (module === undefined) {
      module = import(pathToFileURL(this.resolver.entry(dir)).href).then(
        (loaded: Record<string, unknown>) => loaded,
        () => undefined,
      )
      this.#modules.set(dir, module)
    }
    return module
  }
}

interface PluginFingerprintBase {
  readonly label: string
  readonly code: KeyPart
  /** Why the plugin itself cannot be fingerprinted soundly (a bound function of no known package). */
  readonly unsound?: string
}

/** Why a plugin's parameters cannot be fingerprinted soundly: the first part found, named as an option. */
function parameterUnsound(parameters: readonly (readonly UnsoundPart[])[]): string | undefined {
  for (const [index, unsound] of parameters.entries()) {
    const [first] = unsound
    if (first !== undefined) return describeUnsound(first, index === 0 ? "option" : `parameter ${index + 1}`)
  }
  return undefined
}

/**
 * The file of a local module URL. Sources run through a TypeScript loader
 * import `./plugin.js` that exists as `./plugin.ts`: that file is used when
 * the `.js` one does not exist.
 */
export function localModuleFile(url: URL): string {
  const file = fileURLToPath(url)
  if (exists(file)) return file
  const extension = extname(file)
  const alternatives =
    extension === ".js"
      ? [".ts", ".tsx", ".mts"]
      : extension === ".mjs"
        ? [".mts"]
        : extension === ""
          ? [".ts", ".js", ".mjs", "/index.ts", "/index.js"]
          : []
  for (const alternative of alternatives) {
    const candidate = extension === "" ? file + alternative : file.slice(0, -extension.length) + alternative
    if (exists(candidate)) return candidate
  }
  return file
}

function exists(file: string): boolean {
  try {
    return statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * The text of a package's own modules: `entry` and every file it reaches by
 * relative imports and requires (at most 500). `null` when that cannot be
 * told: an unreadable file, or a specifier that is neither relative nor a
 * package name (`#` import maps).
 */
function packageSources(entry: string): string[] | null {
  const texts: string[] = []
  const seen = new Set<string>()
  const pending = [entry]
  while (pending.length > 0) {
    const file = pending.pop() as string
    if (seen.has(file)) continue
    seen.add(file)
    if (seen.size > 500) return null
    let text: string
    try {
      text = readFileSync(file, "utf8")
    } catch {
      return null
    }
    texts.push(text)
    const requires = [...text.matchAll(/\brequire\s*\(\s*["']([^"'\n]+)["']\s*\)/g)].map((match) => match[1] as string)
    for (const specifier of [...importedSpecifiers(text), ...requires]) {
      if (specifier.startsWith("#")) return null
      if (!specifier.startsWith(".")) continue
      const target = resolve(dirname(file), specifier)
      const found = [target, `${target}.js`, `${target}.mjs`, `${target}.cjs`, join(target, "index.js")].find(exists)
      if (found === undefined) return null
      pending.push(found)
    }
  }
  return texts
}

/** Module specifiers a source file imports (static, dynamic and re-exports). */
export function importedSpecifiers(text: string): string[] {
  const found = new Set<string>()
  const pattern = /\bfrom\s*["']([^"'\n]+)["']|\bimport\s*\(?\s*["']([^"'\n]+)["']/g
  for (const match of text.matchAll(pattern)) {
    const specifier = match[1] ?? match[2]
    if (specifier !== undefined) found.add(specifier)
  }
  return [...found]
}
