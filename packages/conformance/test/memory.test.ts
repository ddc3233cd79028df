import { MemoryStore, StoreCache } from "@sitecache/core"
import { runConformance } from "../src/index.js"

// One store per location, so a second cache on the same location sees the same data.
const stores = new Map<string, MemoryStore>()
let next = 0

runConformance({
  name: "memory",
  location: () => `memory-${next++}`,
  open: async ({ location, ...options }) => {
    let store = stores.get(location)
    // The first cache's clock is the store's (what its access times, and so `sweep`, go by).
    if (store === undefined) stores.set(location, (store = new MemoryStore(options.clock ? { clock: options.clock } : {})))
    return new StoreCache(store, options)
  },
  dispose: (location) => void stores.delete(location),
})
