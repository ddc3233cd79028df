import type { ConfigSource } from "../config.js"

/** The cache a command works on, as shown to people. */
export interface Target {
  /** As the configuration names it: a backend name, or a module specifier. */
  readonly backend: string
  /** A path, or a Redis URL (without password) and namespace. */
  readonly location: string
  readonly source?: ConfigSource
}
