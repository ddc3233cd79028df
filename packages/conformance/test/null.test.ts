import { createNullCache } from "@sitecache/core"
import { runConformance } from "../src/index.js"

runConformance({
  name: "null",
  location: () => "",
  open: async ({ location: _, ...options }) => createNullCache(options),
  capabilities: { roundTrip: false },
})
