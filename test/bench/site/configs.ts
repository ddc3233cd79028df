/** The configurations the site suite compares, in the order of its tables and chart. */
import type { PeerName } from "./peers.js"

export type ConfigKind = "uncached" | "floor" | "sitecache" | "peer"

export interface Config {
  /** Stable id, used in the JSON report and on the command line of the child. */
  readonly id: string
  readonly label: string
  readonly kind: ConfigKind
  readonly backend?: string | readonly string[]
  readonly peer?: PeerName
  /** Needs the suite's Redis server. */
  readonly redis?: boolean
}

export const UNCACHED: Config = { id: "uncached", label: "uncached (baseline)", kind: "uncached" }
export const FLOOR: Config = { id: "floor", label: "floor (read + write only)", kind: "floor" }

export const SITECACHE: readonly Config[] = [
  { id: "memory", label: "sitecache memory", kind: "sitecache", backend: "memory" },
  { id: "fs", label: "sitecache fs", kind: "sitecache", backend: "fs" },
  { id: "sqlite", label: "sitecache sqlite", kind: "sitecache", backend: "sqlite" },
  { id: "redis", label: "sitecache redis", kind: "sitecache", backend: "redis", redis: true },
  { id: "memory+sqlite", label: "sitecache memory+sqlite", kind: "sitecache", backend: ["memory", "sqlite"] },
  {
    id: "memory+sqlite+redis",
    label: "sitecache memory+sqlite+redis",
    kind: "sitecache",
    backend: ["memory", "sqlite", "redis"],
    redis: true,
  },
]

export const PEER_CONFIGS: readonly Config[] = [
  { id: "keyv-sqlite", label: "keyv + @keyv/sqlite", kind: "peer", peer: "keyv-sqlite" },
  { id: "cacache", label: "cacache", kind: "peer", peer: "cacache" },
  { id: "flat-cache", label: "flat-cache", kind: "peer", peer: "flat-cache" },
  { id: "better-sqlite3", label: "raw better-sqlite3", kind: "peer", peer: "better-sqlite3" },
]

export const ALL_CONFIGS: readonly Config[] = [UNCACHED, FLOOR, ...SITECACHE, ...PEER_CONFIGS]

export function configById(id: string): Config {
  const found = ALL_CONFIGS.find((config) => config.id === id)
  if (found === undefined) throw new Error(`bench site: unknown configuration ${JSON.stringify(id)}`)
  return found
}
