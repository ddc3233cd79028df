/**
 * `include` / `exclude`: which module ids get a cached hook, decided by the
 * `createFilter` every Vite and Rollup plugin uses (Vite's `createFilter` is
 * this one from `@rollup/pluginutils`; importing it from here keeps the
 * adapter usable with Rollup alone). Globs are picomatch patterns resolved
 * against the project root (`"content/**\/*.mdx"`; one starting with `**` or
 * absolute is taken as it is), `RegExp`s are tested against the whole id
 * (query included), and ids holding `\0` (virtual modules) never match.
 */
import { createFilter, type FilterPattern } from "@rollup/pluginutils"
import { BadOptionError } from "@sitecache/core"

export type { FilterPattern }

function check(patterns: unknown, option: string): void {
  if (patterns === undefined || patterns === null) return
  const list = Array.isArray(patterns) ? patterns : [patterns]
  list.forEach((pattern, i) => {
    if ((typeof pattern === "string" && pattern !== "") || pattern instanceof RegExp) return
    throw new BadOptionError(
      Array.isArray(patterns) ? `${option}[${i}]` : option,
      `expected a glob or a RegExp (as Vite's \`createFilter\` takes), got ${typeof pattern === "function" ? "a function" : JSON.stringify(pattern)}`,
    )
  })
}

/** `(id) => boolean` for `include` (default: every id) and `exclude` (default: none), globs resolved against `root`. */
export function createIdFilter(
  include: FilterPattern | undefined,
  exclude: FilterPattern | undefined,
  root: string,
): (id: string) => boolean {
  check(include, "include")
  check(exclude, "exclude")
  return createFilter(include, exclude, { resolve: root })
}
