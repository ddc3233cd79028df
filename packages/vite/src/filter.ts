/**
 * `include` / `exclude`: which module ids get a cached transform.
 *
 * A pattern is a glob matched against the module's path relative to the
 * project root (`/` separators, query string removed), a `RegExp` tested
 * against the same path and against the full id, or a function of the full id.
 * Globs: `*` (within one path segment), `**` (any number of segments), `?`,
 * `{a,b}`; a glob with no `/` also matches the file name anywhere
 * (`"*.mdx"` matches `content/a/b.mdx`).
 */
import { BadOptionError } from "@sitecache/core"

export type IdPattern = string | RegExp | ((id: string) => boolean)
export type IdFilterPattern = IdPattern | readonly IdPattern[]

export function globToRegExp(glob: string): RegExp {
  let source = ""
  let braces = 0
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string
    if (char === "*") {
      if (glob[i + 1] === "*") {
        i++
        if (glob[i + 1] === "/") {
          i++
          source += "(?:.*/)?"
        } else {
          source += ".*"
        }
      } else {
        source += "[^/]*"
      }
    } else if (char === "?") {
      source += "[^/]"
    } else if (char === "{") {
      braces++
      source += "(?:"
    } else if (char === "}" && braces > 0) {
      braces--
      source += ")"
    } else if (char === "," && braces > 0) {
      source += "|"
    } else {
      source += char.replace(/[.+^$()|[\]\\]/g, "\\$&")
    }
  }
  const anywhere = !glob.includes("/")
  return new RegExp(`^${anywhere ? "(?:.*/)?" : ""}${source}$`)
}

type Matcher = (relativePath: string, id: string) => boolean

function compile(pattern: IdPattern, option: string): Matcher {
  if (typeof pattern === "function") return (_path, id) => pattern(id)
  if (pattern instanceof RegExp) {
    return (path, id) => {
      pattern.lastIndex = 0
      if (pattern.test(path)) return true
      pattern.lastIndex = 0
      return pattern.test(id)
    }
  }
  if (typeof pattern === "string" && pattern !== "") {
    const regexp = globToRegExp(pattern.startsWith("./") ? pattern.slice(2) : pattern)
    return (path) => regexp.test(path)
  }
  throw new BadOptionError(option, `expected a glob, a RegExp or a function, got ${JSON.stringify(pattern)}`)
}

function compileAll(patterns: IdFilterPattern | undefined, option: string): Matcher[] | undefined {
  if (patterns === undefined) return undefined
  const list = (Array.isArray(patterns) ? patterns : [patterns]) as readonly IdPattern[]
  return list.map((pattern, i) => compile(pattern, list.length > 1 || Array.isArray(patterns) ? `${option}[${i}]` : option))
}

/** `(relativePath, id) => boolean` for `include` (default: everything) and `exclude` (default: nothing). */
export function createIdFilter(
  include: IdFilterPattern | undefined,
  exclude: IdFilterPattern | undefined,
): (relativePath: string, id: string) => boolean {
  const includes = compileAll(include, "include")
  const excludes = compileAll(exclude, "exclude")
  return (path, id) => {
    if (excludes?.some((match) => match(path, id))) return false
    return includes === undefined || includes.some((match) => match(path, id))
  }
}
