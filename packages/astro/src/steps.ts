/**
 * The steps of Astro this integration caches, each a hook of one of Astro's
 * own Vite plugins, and the shape each must have to be wrapped.
 *
 * - `astro:markdown`'s `load` (astro/dist/vite-plugin-markdown): reads a
 *   `.md` file, renders it with `@astrojs/markdown-remark` (remark, rehype,
 *   Shiki) and returns the page's module. Keyed by the bytes of the file.
 * - `@mdx-js/rollup`'s `transform` (@astrojs/mdx's vite-plugin-mdx): compiles
 *   an `.mdx` file (a page or a content collection entry) to a module.
 *   Keyed by the code it is given.
 *
 * Both are internal to Astro: their names and hook shapes are checked before
 * wrapping (`shapeProblem`), and a plugin that does not match is left alone
 * with one warning, so an Astro release that changes them builds uncached
 * instead of breaking.
 */
import { readFile } from "node:fs/promises"
import { isAbsolute } from "node:path"

export type HookName = "load" | "transform"

export interface Step {
  /** The Vite plugin's name. */
  readonly plugin: string
  readonly hook: HookName
  /** The step as the summary and `sitecache explain` name it. */
  readonly label: string
  /** The packages whose versions enter the key (resolved from the package that owns the plugin). */
  readonly owner: string
  readonly packages: readonly string[]
  /** The file a call renders (absolute, `/`-separated), or `undefined` for a call this step does not cache. */
  file(args: readonly unknown[]): string | undefined
  /** What keys the call beside the file's path; `undefined`: not cacheable. */
  input(args: readonly unknown[], file: string): Promise<string | Uint8Array | undefined>
}

/** Astro's markdown extensions (`SUPPORTED_MARKDOWN_FILE_EXTENSIONS`). */
const MARKDOWN = /\.(?:markdown|mdown|mkdn|mkd|mdwn|md)$/

function plainFileId(id: unknown, extension: RegExp): string | undefined {
  if (typeof id !== "string" || id.includes("?") || id.startsWith("\0") || !isAbsolute(id)) return undefined
  return extension.test(id) ? id : undefined
}

export const MARKDOWN_STEP: Step = {
  plugin: "astro:markdown",
  hook: "load",
  label: "astro:markdown load",
  owner: "astro",
  packages: ["@astrojs/markdown-remark", "shiki"],
  file: (args) => plainFileId(args[0], MARKDOWN),
  async input(_args, file) {
    try {
      return await readFile(file)
    } catch {
      return undefined
    }
  },
}

export const MDX_STEP: Step = {
  plugin: "@mdx-js/rollup",
  hook: "transform",
  label: "@astrojs/mdx transform",
  owner: "@astrojs/mdx",
  packages: ["@mdx-js/mdx", "@astrojs/markdown-remark", "shiki"],
  file: (args) => plainFileId(args[1], /\.mdx$/),
  input: async (args) => (typeof args[0] === "string" ? args[0] : undefined),
}

export const STEPS: readonly Step[] = [MARKDOWN_STEP, MDX_STEP]

export type Handler = (this: unknown, ...args: unknown[]) => unknown

/** The hook's function, whether the plugin gives a function or `{ handler }`. */
export function handlerOf(hook: unknown): Handler | undefined {
  if (typeof hook === "function") return hook as Handler
  if (hook !== null && typeof hook === "object") {
    const handler = (hook as { handler?: unknown }).handler
    if (typeof handler === "function") return handler as Handler
  }
  return undefined
}

/** Why `plugin` does not have the shape `step` was written for, or `undefined` when it does. */
export function shapeProblem(plugin: Record<string, unknown>, step: Step): string | undefined {
  if (plugin.name !== step.plugin) return `its name is ${JSON.stringify(plugin.name)}`
  if (handlerOf(plugin[step.hook]) === undefined) return `it has no \`${step.hook}\` hook`
  if (plugin.enforce !== "pre") return `it is no longer \`enforce: "pre"\``
  const hook = plugin[step.hook]
  if (typeof hook === "object" && hook !== null && Object.keys(hook).some((name) => name !== "handler"))
    return `its \`${step.hook}\` hook has options (${Object.keys(hook).join(", ")})`
  return undefined
}
