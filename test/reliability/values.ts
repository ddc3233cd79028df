/**
 * The values the reliability suites write: deterministic from an index, so a
 * parent process knows what a child stored, and checked by content hash.
 */
import { createHash } from "node:crypto"

export interface Value {
  readonly i: number
  readonly body: Uint8Array
}

/** A size in [min, max] bytes, spread deterministically over the indexes. */
export function sizeOf(i: number, min: number, max: number): number {
  const mixed = Math.imul(i + 1, 0x9e37_79b1) >>> 0
  return min + (mixed % (max - min + 1))
}

/** The value stored under index `i`: `{ i, body }` with a body of `size` bytes that depends on `i` throughout. */
export function valueFor(i: number, size: number): Value {
  const body = Buffer.alloc(size, i % 251)
  for (let at = 0; at + 4 <= size; at += 4096) body.writeUInt32LE((i * 2654435761 + at) >>> 0, at)
  return { i, body }
}

/** What the suites compare: a hash of the index and the body. */
export function contentHashOf(value: unknown): string {
  const v = value as Partial<Value> | undefined
  if (v === undefined || v === null || typeof v.i !== "number" || !(v.body instanceof Uint8Array)) return "not-a-value"
  return createHash("sha256").update(String(v.i)).update(v.body).digest("hex").slice(0, 32)
}

export function keyOf(i: number): string {
  return `reliability/entry-${i}`
}

/** A small seeded generator (mulberry32), so each child's sequence is reproducible from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
