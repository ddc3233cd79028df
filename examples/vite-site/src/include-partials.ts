/**
 * A small local Vite plugin: a line `@include name.md` in a page is replaced by
 * the text of `<partials>/name.md` before MDX compiles the page. It registers
 * each partial with `this.addWatchFile`, so the cached transform of a page
 * depends on the partials it includes.
 */
import { readFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import type { Plugin } from "vite"

const INCLUDE = /^@include\s+(\S+)\s*$/gm

export function includePartials(options: { dir: string }): Plugin {
  let dir = resolve(options.dir)
  return {
    name: "example-include-partials",
    enforce: "pre",
    configResolved(config) {
      dir = resolve(config.root, options.dir)
    },
    async transform(code, id) {
      if (!/\.mdx?$/.test(id.split("?")[0] as string) || !code.includes("@include")) return null
      const names = [...code.matchAll(INCLUDE)].map((match) => match[1] as string)
      const partials = new Map<string, string>()
      for (const name of names) {
        const file = join(dir, name)
        this.addWatchFile(file)
        partials.set(name, (await readFile(file, "utf8")).trimEnd())
      }
      return { code: code.replace(INCLUDE, (_line, name: string) => partials.get(name) ?? ""), map: null }
    },
  }
}
