/**
 * An adapter's identity, as it goes into every key it makes: its package's
 * name and version, read from its own `package.json`, so a new release of the
 * adapter starts cold.
 */
import { readFileSync } from "node:fs"
import { BadOptionError } from "./errors.js"

export interface AdapterIdentity {
  /** The package name: `@sitecache/vite`. */
  readonly name: string
  readonly version: string
  /** `name@version`, the key part. */
  readonly id: string
}

/**
 * The identity of the package whose `package.json` is at `manifest`.
 *
 * @example
 * export const ADAPTER = adapterIdentity(new URL("../package.json", import.meta.url))
 */
export function adapterIdentity(manifest: URL | string): AdapterIdentity {
  const { name, version } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown; version?: unknown }
  if (typeof name !== "string" || name === "" || typeof version !== "string" || version === "")
    throw new BadOptionError("manifest", `${String(manifest)} has no package name and version`)
  return { name, version, id: `${name}@${version}` }
}
