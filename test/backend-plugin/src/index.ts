/**
 * `sitecache-backend-jsonfile`: every entry in one JSON file (see README).
 * Core has never heard of it; `createCache({ backend: "jsonfile" })` finds it
 * by its package name, and `createCache({ backend: "<path to this file>" })`
 * by module.
 */
import { join, resolve } from "node:path"
import { type Backend, type BackendContext, CacheNotFoundError, optionChecks } from "@sitecache/core"
import { JsonFileStore } from "./store.js"

export { JsonFileStore } from "./store.js"

function file(context: BackendContext): string {
  const given = context.options.file as string | undefined
  return given === undefined ? join(context.dir, "entries.json") : resolve(context.root, given)
}

export const backend: Backend<JsonFileStore> = {
  name: "jsonfile",
  options: { file: optionChecks.string },
  persistent: true,
  location: file,
  open(context) {
    const path = file(context)
    const options = { readOnly: context.mode === "read-only", ...(context.clock ? { clock: context.clock } : {}) }
    const store = JsonFileStore.open(path, context.create, options)
    if (store === undefined) throw new CacheNotFoundError("jsonfile", path)
    return store
  },
}
