import type { BackendName } from "@sitecache/core"
import type { ConfigSource } from "../config.js"

/** The cache a command works on, as shown to people. */
export interface Target {
  readonly backend: BackendName
  /** A path, or a Redis URL (without password) and namespace. */
  readonly location: string
  readonly source?: ConfigSource
}
