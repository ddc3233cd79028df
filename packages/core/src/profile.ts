/**
 * Where a warm build's time goes, for the user's own builds: each hit's key,
 * entry read (store, checks, decode), dependency check and the adapter's
 * restore, summed by `BuildStats.timing` during the build and kept as means
 * in the build's run summary, which `sitecache inspect` shows beside the
 * build's whole time per document.
 */
import type { BuildStats } from "./stats.js"
/** The mean time of one hit in each step, µs. */
export interface HitProfile {
  readonly hits: number
  /** Making the document's key. */
  readonly keyUs: number
  /** Reading the entry: the store's read, the entry's checks and the decode. */
  readonly readUs: number
  /** Checking the recorded dependencies' hashes. */
  readonly depsUs: number
  /** The adapter putting the value back (0 for adapters that do not time it). */
  readonly restoreUs: number
}

/** `stats.timing` as means per hit, or `undefined` without hits. */
export function hitProfile(stats: BuildStats): HitProfile | undefined {
  const { hits, keyMs, readMs, depsMs, restoreMs } = stats.timing
  if (hits === 0) return undefined
  const us = (ms: number) => Math.round((ms * 1000 * 10) / hits) / 10
  return { hits, keyUs: us(keyMs), readUs: us(readMs), depsUs: us(depsMs), restoreUs: us(restoreMs) }
}
