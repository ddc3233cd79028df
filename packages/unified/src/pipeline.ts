/**
 * A processor described as data: the list of plugins (package names, local
 * module URLs or functions) and their options, loaded only when a document
 * misses. Its fingerprint is read from disk (installed versions, local
 * sources) and from the options, so a fully warm build never imports
 * `unified` or a single plugin, and still misses when a plugin is upgraded,
 * edited or configured differently.
 */
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { BadOptionError } from "@sitecache/core"
import { type Fingerprinter, localModuleFile, type PluginSource } from "./fingerprint.js"
import type { ProcessorLike } from "./types.js"

/**
 * One plugin: a package name (`"remark-gfm"`, its default export), a local
 * module (`new URL("./plugins/layout.js", import.meta.url)`, its default
 * export), or a plugin function; alone or in a list with the parameters
 * given to `use` (`["rehype-highlight", { detect: true }]`).
 */
export type PluginEntry = PluginReference | readonly [PluginReference, ...unknown[]]
export type PluginReference = string | URL | ((...args: never[]) => unknown)

export interface PipelineOptions {
  /** Where plugin packages (and `unified`) resolve from, e.g. the directory of the package that declares them. Default: `process.cwd()`. */
  readonly root?: string
  /** Processor settings (`processor.data("settings", …)`), read by parsers and compilers. */
  readonly settings?: Readonly<Record<string, unknown>>
}

export interface PipelinePlugin {
  readonly source: PluginSource
  readonly parameters: readonly unknown[]
}

/** A processor described as data; give it to `cached` or `cachedRun`. */
export interface Pipeline {
  readonly kind: "pipeline"
  readonly root: string
  readonly plugins: readonly PipelinePlugin[]
  readonly settings: Readonly<Record<string, unknown>> | undefined
}

/**
 * Describe a processor as a list of plugins.
 *
 * @example
 * const render = cached(
 *   pipeline(["remark-parse", "remark-gfm", "remark-rehype", ["rehype-highlight", { detect: true }], "rehype-stringify"],
 *     { root: fileURLToPath(new URL("..", import.meta.url)) }),
 *   { cache },
 * )
 */
export function pipeline(plugins: readonly PluginEntry[], options: PipelineOptions = {}): Pipeline {
  if (!Array.isArray(plugins)) throw new BadOptionError("plugins", "expected a list of plugins")
  return {
    kind: "pipeline",
    root: resolve(options.root ?? process.cwd()),
    plugins: plugins.map((entry, index) => {
      const [reference, ...parameters] = Array.isArray(entry) ? entry : [entry]
      return { source: toSource(reference, `plugins[${index}]`), parameters }
    }),
    settings: options.settings,
  }
}

export function isPipeline(value: unknown): value is Pipeline {
  return value !== null && typeof value === "object" && (value as { kind?: unknown }).kind === "pipeline"
}

function toSource(reference: unknown, option: string): PluginSource {
  if (typeof reference === "string" && reference !== "") return { kind: "package", name: reference }
  if (reference instanceof URL) {
    if (reference.protocol !== "file:")
      throw new BadOptionError(option, `a local plugin needs a \`file:\` URL, got ${reference.href}`)
    return { kind: "module", url: reference }
  }
  if (typeof reference === "function") return { kind: "function", plugin: reference }
  throw new BadOptionError(option, "expected a package name, a file URL or a plugin function")
}

/** Import `unified` and every plugin of `description`, and build the processor. */
export async function loadPipeline(description: Pipeline, fingerprinter: Fingerprinter): Promise<ProcessorLike> {
  const { resolver } = fingerprinter
  const unifiedDir = resolver.find("unified", description.root)
  const unifiedModule = (await (unifiedDir === undefined
    ? import("unified")
    : import(pathToFileURL(resolver.entry(unifiedDir)).href))) as { unified: () => ProcessorLike }
  const processor = unifiedModule.unified()
  for (const [index, { source, parameters }] of description.plugins.entries()) {
    processor.use(await loadPlugin(source, description.root, fingerprinter, `plugins[${index}]`), ...parameters)
  }
  if (description.settings !== undefined) processor.data("settings", { ...description.settings })
  processor.freeze()
  return processor
}

async function loadPlugin(source: PluginSource, root: string, fingerprinter: Fingerprinter, option: string): Promise<unknown> {
  if (source.kind === "function") return source.plugin
  let url: string
  let name: string
  if (source.kind === "package") {
    const dir = fingerprinter.resolver.find(source.name, root)
    if (dir === undefined) throw new BadOptionError(option, `cannot find the plugin package \`${source.name}\` from ${root}`)
    url = pathToFileURL(fingerprinter.resolver.entry(dir)).href
    name = source.name
  } else {
    url = pathToFileURL(localModuleFile(source.url)).href
    name = source.url.href
  }
  const module = (await import(url)) as { default?: unknown }
  if (typeof module.default !== "function" && (typeof module.default !== "object" || module.default === null)) {
    throw new BadOptionError(option, `\`${name}\` has no default export to \`use\` as a plugin`)
  }
  return module.default
}
