/**
 * The one validator of options, run by every way to open a cache:
 * `createCache` (for the configuration and each backend's object in it), each
 * backend's direct constructor (`createFsCache`, `createSqliteCache`,
 * `createRedisCache`, `createMemoryCache`) and `new StoreCache`.
 *
 * A component describes its options as a schema, a record of option name to
 * check; whoever opens a cache merges the schemas of the parts it opens and
 * runs `checkOptions` once. So a typo (`maxSzie`) is refused with the same
 * message, naming the option as the user wrote it and suggesting the closest
 * known one, whichever way the cache is opened.
 */
import { BadOptionError } from "./errors.js"

/** Checks one option's value: returns it (normalized, e.g. `"1 GB"` as bytes) or throws `BadOptionError` naming `option`. */
export type OptionCheck = (value: unknown, option: string) => unknown

/** The options a component takes: name → check. */
export type OptionSchema = Readonly<Record<string, OptionCheck>>

/**
 * Check the options `raw` against `schema`: refuse anything but a plain
 * object, any name `schema` does not know, and any value its check refuses.
 * `scope` is how the user reached these options (`"fs."` for the `fs` object of
 * `createCache`, `""` for a constructor's own options), so that messages name
 * `fs.fsync` or `fsync` as written. Returns the checked value of each option
 * given (an `undefined` value counts as not given).
 */
export function checkOptions(raw: unknown, schema: OptionSchema, scope = ""): Record<string, unknown> {
  if (raw === undefined) return {}
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new BadOptionError(scope === "" ? "options" : scope.slice(0, -1), "expected an object")
  }
  const given = raw as Record<string, unknown>
  const checked: Record<string, unknown> = {}
  for (const name of Object.keys(given)) {
    const check = Object.hasOwn(schema, name) ? schema[name] : undefined
    if (check === undefined) throw unknownOption(`${scope}${name}`, name, Object.keys(schema), scope)
    const value = given[name]
    if (value !== undefined) checked[name] = check(value, `${scope}${name}`)
  }
  return checked
}

function unknownOption(option: string, name: string, known: readonly string[], scope: string): BadOptionError {
  const closest = closestName(name, known)
  return new BadOptionError(
    option,
    `unknown option${closest === undefined ? "" : ` (did you mean \`${scope}${closest}\`?)`}; known options are ${known
      .map((k) => `\`${scope}${k}\``)
      .join(", ")}`,
  )
}

/** The known name within two edits (a swap of two neighbours counts as one) of `name`, if any. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0.5 : editDistance(name, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return Number.POSITIVE_INFINITY
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)])
  for (let j = 0; j <= b.length; j++) (rows[0] as number[])[j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[]
    const above = rows[i - 1] as number[]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      row[j] = value
    }
  }
  return (rows[a.length] as number[])[b.length] as number
}

/** An option that is `true` or `false`. */
export function booleanOption(value: unknown, option: string): boolean {
  if (typeof value !== "boolean") throw new BadOptionError(option, `expected a boolean, got ${describeValue(value)}`)
  return value
}

/** An option that is a non-empty string. */
export function stringOption(value: unknown, option: string): string {
  if (typeof value !== "string" || value === "")
    throw new BadOptionError(option, `expected a non-empty string, got ${describeValue(value)}`)
  return value
}

/** An option that is a finite number ≥ 0. */
export function nonNegativeOption(value: unknown, option: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw new BadOptionError(option, `expected a finite number ≥ 0, got ${describeValue(value)}`)
  return value
}

/** An option that is a function (a clock, a callback). */
export function functionOption(value: unknown, option: string): unknown {
  if (typeof value !== "function") throw new BadOptionError(option, `expected a function, got ${describeValue(value)}`)
  return value
}

/** An option that is one of `choices`. */
export function oneOfOption<T extends string>(choices: readonly T[]): (value: unknown, option: string) => T {
  return (value, option) => {
    if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T
    throw new BadOptionError(option, `expected ${choices.map((c) => `"${c}"`).join(", ")}, got ${describeValue(value)}`)
  }
}

/** An option that is a plain object (a backend's own options, checked by its schema). */
export function objectOption(value: unknown, option: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new BadOptionError(option, "expected an object")
  return value as Record<string, unknown>
}

/** A value for a message: JSON where it can be (strings quoted), cut to 60 characters; its type otherwise. */
export function describeValue(value: unknown): string {
  if (typeof value === "function") return "a function"
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  k: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  g: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
}

/** `"500 MB"`, `"1.5GiB"`, `"64k"` or a number of bytes. KB, MB, GB are binary (1024-based), as in npm's `bytes`. */
export function parseSize(value: string | number, option = "maxSize"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value > 0) return Math.floor(value)
  } else if (typeof value === "string") {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
    const unit = SIZE_UNITS[(match?.[2] || "b").toLowerCase()]
    if (match && unit !== undefined && Number(match[1]) > 0) return Math.floor(Number(match[1]) * unit)
  }
  throw new BadOptionError(option, `expected a size such as "500 MB" or a number of bytes > 0, got ${JSON.stringify(value)}`)
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** `"30d"`, `"12h"`, `"15m"`, `"10s"`, `"500ms"`, `"2w"` or a number of ms. */
export function parseDuration(value: string | number, option = "ttl"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value
  } else if (typeof value === "string") {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
    const unit = DURATION_UNITS[(match?.[2] || "ms").toLowerCase()]
    if (match && unit !== undefined) return Number(match[1]) * unit
  }
  throw new BadOptionError(option, `expected a duration such as "30d", "12h" or a number of ms, got ${JSON.stringify(value)}`)
}

/** An option that is a size: `parseSize`. */
export function sizeOption(value: unknown, option: string): number {
  return parseSize(value as string | number, option)
}

/** An option that is a duration: `parseDuration`. */
export function durationOption(value: unknown, option: string): number {
  return parseDuration(value as string | number, option)
}

/** The checks schemas are made of, for backends' own schemas. */
export const optionChecks = {
  boolean: booleanOption,
  string: stringOption,
  nonNegative: nonNegativeOption,
  size: sizeOption,
  duration: durationOption,
  function: functionOption,
  object: objectOption,
  oneOf: oneOfOption,
} as const
