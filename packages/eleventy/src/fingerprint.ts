/** Shared with the other adapters: see `@sitecache/core`. */
export { fingerprint, installedVersion, type ValueFingerprint } from "@sitecache/core"
