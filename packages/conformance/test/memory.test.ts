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
    const { maxSize, ...cacheOptions } = options
    if (store === undefined) {
      store = new MemoryStore({ ...(options.clock ? { clock: options.clock } : {}), ...(maxSize ? { maxSize } : {}) })
      stores.set(location, store)
    }
    return new StoreCache(store, cacheOptions)
  },
  dispose: (location) => void stores.delete(location),
  capabilities: { maxSize: true },
})
