/**
 * `@sitecache/conformance`: the invariants of the cache contract (docs/architecture.md, "The contracts"),
 * run against any backend from a one-line test:
 *
 * ```ts
 * runConformance({ name: "memory", location: () => "", open: (o) => ... })
 * ```
 *
 * Each group lives in its own file under `groups/` and can be switched off by
 * a capability (the null cache cannot round-trip).
 */
import { afterEach } from "vitest"
import { clear } from "./groups/clear.js"
import { corrupt } from "./groups/corrupt.js"
import { deleteAndBatches } from "./groups/delete-and-batches.js"
import { entries } from "./groups/entries.js"
import { eviction } from "./groups/eviction.js"
import { inspect } from "./groups/inspect.js"
import { isolation } from "./groups/isolation.js"
import { modes } from "./groups/modes.js"
import { storesNothing } from "./groups/null.js"
import { persist } from "./groups/persist.js"
import { prefixes } from "./groups/prefixes.js"
import { prune } from "./groups/prune.js"
import { putIfAbsent } from "./groups/put-if-absent.js"
import { roundTrip } from "./groups/round-trip.js"
import { sweep } from "./groups/sweep.js"
import { ttl } from "./groups/ttl.js"
import { unserializable } from "./groups/unserializable.js"
import { type ConformanceTarget, createHarness } from "./target.js"

export { childNodeArgs, conditionFlags, runChildScript } from "./child.js"
export { type Damage, damageEntry } from "./damage.js"
export { roundTripValues } from "./groups/round-trip.js"
export type { Capabilities, ConformanceTarget, Harness, OpenOptions } from "./target.js"
export { createHarness } from "./target.js"

/** Register every applicable conformance group for `target` in the current vitest file. */
export function runConformance(target: ConformanceTarget): void {
  const h = createHarness(target)
  afterEach(() => h.cleanup())
  const capabilities = { roundTrip: true, persistent: false, ...target.capabilities }
  if (!capabilities.roundTrip) {
    storesNothing(h)
    clear(h, capabilities)
    return
  }
  roundTrip(h)
  putIfAbsent(h)
  prefixes(h)
  deleteAndBatches(h)
  inspect(h)
  ttl(h)
  isolation(h)
  unserializable(h)
  corrupt(h)
  clear(h, capabilities)
  modes(h)
  sweep(h, capabilities)
  entries(h)
  prune(h, capabilities)
  if (capabilities.maxSize) eviction(h)
  if (capabilities.persistent) persist(h)
}
