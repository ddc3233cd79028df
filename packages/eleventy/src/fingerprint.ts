/** Shared with the other adapters: see `@sitecache/core`. */
export { fingerprint, installedVersion } from "@sitecache/core"
