/**
 * The bounds of a cached value, checked on both sides of the codec.
 *
 * Whoever can write a cache directory or an unsigned shared namespace chooses
 * what `get` returns, and a valid checksum proves nothing about intent. So
 * every value a `StoreCache` decodes (`decodeWithinBounds`) is refused (a
 * miss) when it is:
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
 * It is walked once before anyone sees it, unless the codec proves the bounds
 * while decoding (`Codec.decodeBounded`: the default codec does for plain
 * payloads whose head cannot spell `__proto__`).
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

import type { Codec } from "./codec.js"
import { CorruptEntryError } from "./errors.js"

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
  const budget = weightBudget(payloadBytes)
  // First as a tree, which is all most values are: no bookkeeping of the path. A cycle (v8 keeps them) runs
  // into a bound quickly there; only then is the value walked again, following no edge back to an ancestor.
  if (walkFault(value, { weight: 0, budget, ancestors: undefined }) === undefined) return undefined
  return walkFault(value, { weight: 0, budget, ancestors: new Set() })
}

function walkFault(value: unknown, walk: Walk): string | undefined {
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
  /** Objects on the path from the root, when cycles are looked for: reaching one again is not followed. */
  readonly ancestors: Set<object> | undefined
}

/** Thrown through the recursion to stop at the first fault; never escapes `valueFault`. */
class OutOfBounds extends Error {}

function tooHeavy(walk: Walk): OutOfBounds {
  return new OutOfBounds(
    `the value weighs more than ${walk.budget} (strings, items and properties counted as a tree) for a payload that small: shared references or a sparse array`,
  )
}

function visit(value: unknown, depth: number, walk: Walk): void {
  if (typeof value !== "object" || value === null) {
    walk.weight += typeof value === "string" ? value.length : 1
    if (walk.weight > walk.budget) throw tooHeavy(walk)
    return
  }
  if (walk.ancestors?.has(value)) {
    walk.weight += 1
    return
  }
  if (depth >= MAX_DEPTH) throw new OutOfBounds(`the value is nested more than ${MAX_DEPTH} levels deep`)
  walk.ancestors?.add(value)
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) visitRecord(value as Record<string, unknown>, depth, walk)
  else if (Array.isArray(value)) visitArray(value, depth, walk)
  else visitOther(value, depth, walk)
  walk.ancestors?.delete(value)
}

const ownProto = () => new OutOfBounds("an object has an own `__proto__` key")

/**
 * A plain object (its prototype `Object.prototype` or null). `for…in` rather
 * than `Object.keys`, which allocates a list per object (a tenth of the walk):
 * it also lists what `Object.prototype` may have been given, which only adds
 * weight.
 */
function visitRecord(record: Record<string, unknown>, depth: number, walk: Walk): void {
  walk.weight += 1
  for (const name in record) visitProperty(record, name, depth, walk)
  if (walk.weight > walk.budget) throw tooHeavy(walk)
}

function visitProperty(record: Record<string, unknown>, name: string, depth: number, walk: Walk): void {
  if (name === "__proto__") throw ownProto()
  walk.weight += 1 + name.length
  visit(record[name], depth + 1, walk)
}

function visitArray(array: unknown[], depth: number, walk: Walk): void {
  // Charged before anything is listed: a sparse array's length costs nothing to forge.
  walk.weight += 1 + array.length
  if (walk.weight > walk.budget) throw tooHeavy(walk)
  const names = Object.keys(array)
  if (names.length === array.length) {
    // Dense, without named properties (which would sort after the indexes): index by index.
    for (let i = 0; i < array.length; i++) {
      walk.weight += 1
      visit(array[i], depth + 1, walk)
    }
    return
  }
  for (const name of names) {
    if (name === "__proto__") throw ownProto()
    walk.weight += 1
    visit((array as unknown as Record<string, unknown>)[name], depth + 1, walk)
  }
}

/** A value of a class v8 restores (Map, Set, Date, RegExp, typed arrays, boxed primitives, errors), or any other object. */
function visitOther(value: object, depth: number, walk: Walk): void {
  if (value instanceof Map) {
    walk.weight += 1 + value.size
    if (walk.weight > walk.budget) throw tooHeavy(walk)
    for (const [k, v] of value) {
      visit(k, depth + 1, walk)
      visit(v, depth + 1, walk)
    }
  } else if (value instanceof Set) {
    walk.weight += 1 + value.size
    if (walk.weight > walk.budget) throw tooHeavy(walk)
    for (const item of value) visit(item, depth + 1, walk)
  } else if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    walk.weight += 1 + value.byteLength
  } else if (value instanceof RegExp) {
    walk.weight += 1 + value.source.length
  } else if (value instanceof String) {
    walk.weight += 1 + value.length
  } else if (value instanceof Date) {
    walk.weight += 1
  } else {
    // An instance of another class (v8 gives none back; `put` may be given one): its own names, as v8 writes them.
    walk.weight += 1
    for (const name of Object.keys(value)) visitProperty(value as Record<string, unknown>, name, depth, walk)
  }
  if (walk.weight > walk.budget) throw tooHeavy(walk)
}

/** The codec's value of a checked payload, refused (`CorruptEntryError`) when out of bounds: a value is untrusted input. */
export function decodeWithinBounds(codec: Codec, payload: Uint8Array): unknown {
  if (codec.decodeBounded !== undefined) {
    const { value, bounded } = codec.decodeBounded(payload)
    if (!bounded) refuseOutOfBounds(value, payload.length)
    return value
  }
  const value = codec.decode(payload)
  refuseOutOfBounds(value, payload.length)
  return value
}

function refuseOutOfBounds(value: unknown, payloadBytes: number): void {
  const fault = valueFault(value, payloadBytes)
  if (fault !== undefined) throw new CorruptEntryError(fault)
}
