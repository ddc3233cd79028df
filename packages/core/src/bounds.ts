/**
 * The bounds of a cached value, checked on both sides of the codec.
 *
 * Whoever can write a cache directory or an unsigned shared namespace chooses
 * what `get` returns, and a valid checksum proves nothing about intent. So
 * every value a `StoreCache` decodes is walked once before anyone sees it,
 * whatever the codec, and refused (a miss) when it is:
 *
 * - nested deeper than `MAX_DEPTH` objects, arrays, maps or sets: a recursive
 *   consumer (`JSON.stringify`, a deep copy, a tree walker) would overflow the
 *   stack on it. `JSON.parse` reads a million levels without complaint;
 * - heavier than its payload can honestly be (`weightBudget`): counted as a
 *   tree, so that shared references (v8 keeps them) cannot turn a few bytes
 *   into a value that expands to gigabytes when walked (the "billion laughs"),
 *   and a sparse array cannot claim four billion items;
 * - holding an object with an own `__proto__` key. `JSON.parse` and
 *   `v8.deserialize` create it as plain data, but any consumer that copies it
 *   with assignment (`Object.assign`, `target[key] = value`) replaces its
 *   target's prototype.
 *
 * `put` runs the same walk on the value it encodes and refuses what a read
 * would refuse (`UnserializableError`), so no honest entry can become a
 * permanent miss.
 *
 * The weight of a value, counted as if it were a tree: 1 for each primitive,
 * object, array, map and set; 1 for each property plus the length of its name
 * (arrays: 1 for each index up to `length`, holes too); the length of each
 * string; the byte length of each typed array. For a value without shared
 * references it is never above three times the bytes of its payload, in
 * either payload format (every item costs at least a byte).
 */

/** The deepest nesting of objects, arrays, maps and sets a cached value may have. */
export const MAX_DEPTH = 1000

/** A value may weigh this many times its payload's bytes, ... */
const WEIGHT_PER_BYTE = 8
/** ... or this much, whichever is more: moderate sharing of small parts stays cacheable. */
const MIN_WEIGHT_BUDGET = 1 << 20

/** The heaviest value a payload of `payloadBytes` may decode to. */
export function weightBudget(payloadBytes: number): number {
  return Math.max(payloadBytes * WEIGHT_PER_BYTE, MIN_WEIGHT_BUDGET)
}

/** Why `value` (encoded in `payloadBytes`) is out of bounds, for a message; `undefined` when it is within them. */
export function valueFault(value: unknown, payloadBytes: number): string | undefined {
  const walk: Walk = { weight: 0, budget: weightBudget(payloadBytes), ancestors: new Set() }
  try {
    visit(value, 0, walk)
    return undefined
  } catch (error) {
    if (error instanceof OutOfBounds) return error.message
    throw error
  }
}

interface Walk {
  weight: number
  readonly budget: number
  /** Objects on the path from the root: reaching one again is a cycle, which v8 keeps and the walk does not follow. */
  readonly ancestors: Set<object>
}

/** Thrown through the recursion to stop at the first fault; never escapes `valueFault`. */
class OutOfBounds extends Error {}

function add(walk: Walk, weight: number): void {
  walk.weight += weight
  if (walk.weight > walk.budget) {
    throw new OutOfBounds(
      `the value weighs more than ${walk.budget} (strings, items and properties counted as a tree) for a payload that small: shared references or a sparse array`,
    )
  }
}

function visit(value: unknown, depth: number, walk: Walk): void {
  const leaf = leafWeight(value, walk)
  if (leaf !== undefined) {
    add(walk, leaf)
    return
  }
  const container = value as object
  if (depth >= MAX_DEPTH) throw new OutOfBounds(`the value is nested more than ${MAX_DEPTH} levels deep`)
  walk.ancestors.add(container)
  if (container instanceof Map) {
    add(walk, 1 + container.size)
    for (const [k, v] of container) {
      visit(k, depth + 1, walk)
      visit(v, depth + 1, walk)
    }
  } else if (container instanceof Set) {
    add(walk, 1 + container.size)
    for (const item of container) visit(item, depth + 1, walk)
  } else if (Array.isArray(container)) {
    // Charged before anything is listed: a sparse array's length costs nothing to forge.
    add(walk, 1 + container.length)
    visitProperties(container, depth, walk, true)
  } else {
    add(walk, 1)
    visitProperties(container, depth, walk, false)
  }
  walk.ancestors.delete(container)
}

/** The weight of a value that holds no other values, or `undefined` for a container. */
function leafWeight(value: unknown, walk: Walk): number | undefined {
  if (typeof value === "string") return value.length
  if (typeof value !== "object" || value === null) return 1
  if (walk.ancestors.has(value)) return 1
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return 1 + value.byteLength
  if (value instanceof Date) return 1
  if (value instanceof RegExp) return 1 + value.source.length
  if (value instanceof String) return 1 + value.length
  return undefined
}

function visitProperties(value: object, depth: number, walk: Walk, array: boolean): void {
  if (Object.hasOwn(value, "__proto__") && Object.prototype.propertyIsEnumerable.call(value, "__proto__")) {
    throw new OutOfBounds("an object has an own `__proto__` key")
  }
  const record = value as Record<string, unknown>
  for (const name of Object.keys(record)) {
    add(walk, array ? 1 : 1 + name.length)
    visit(record[name], depth + 1, walk)
  }
}
