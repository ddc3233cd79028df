/**
 * For the conformance suite's persist-and-reopen group: opens the cache at a
 * location (`<port>/<namespace>`) in a child process.
 */
import type { Cache } from "@sitecache/core"
import { createRedisCache } from "../src/index.js"

export default function open(location: string): Promise<Cache> {
  const [port, namespace] = location.split("/") as [string, string]
  return createRedisCache({ url: `redis://127.0.0.1:${port}`, namespace })
}
