/**
 * One wrapped hook: `transform(code, id)` or `load(id)` of a plugin, memoized.
 *
 * The key of a call names its parts, so `sitecache explain` can tell which one
 * changed: the adapter, the plugin (name, installed package, `version` field,
 * the source of its hooks), `pluginOptions`, the user's `version`, the hook,
 * the module id relative to the root, the input, and the build (SSR, mode).
 * The input of `transform` is the code it is given. The input of `load` is
 * the content of the file the id names, read here: a `load` hook makes a
 * module from its file, so the file's bytes decide the result as the code
 * decides a transform's. An id that names no readable file (a virtual
 * module) is not cached: nothing in the key would tell its versions apart.
 */
import { readFile } from "node:fs/promises"
import { isAbsolute, relative, resolve, sep } from "node:path"
import {
  adapterIdentity,
  type DocumentRef,
  describeDocument,
  describeUnsound,
  type KeyPart,
  type MemoResult,
  memoize,
  type Uncacheable,
  type ValueFingerprint,
} from "@sitecache/core"
import type { Plugin } from "vite"
import { type Recording, recordingContext, replayLogs } from "./context.js"
import { fingerprint, installedVersion } from "./fingerprint.js"
import type { CacheableHook, TransformSession } from "./session.js"
import { fromStored, type HookResult, NO_OUTPUT, readStored, type StoredResult, toStored } from "./stored.js"

/** This package, as it appears in every key: a new release of the adapter starts cold. */
export const ADAPTER: string = adapterIdentity(new URL("../package.json", import.meta.url)).id

/** The module id relative to the root, `/`-separated, query kept; virtual and outside ids as they are. */
export function relativeId(id: string, root: string): string {
  if (id.startsWith("\0") || !isAbsolute(id)) return id
  const query = id.indexOf("?")
  const path = query === -1 ? id : id.slice(0, query)
  const rel = relative(root, path)
  if (rel.startsWith("..") || isAbsolute(rel)) return id
  return rel.split(sep).join("/") + (query === -1 ? "" : id.slice(query))
}

type Handler = (this: object, ...args: unknown[]) => unknown

interface PluginIdentity {
  readonly name: string
  readonly part: KeyPart
  /** Why the plugin's hooks cannot be fingerprinted soundly, when no installed package names its code. */
  readonly unsound?: string
}

/** The plugin's hook functions by name, fingerprinted as one value. */
function hooksFingerprint(plugin: Plugin): ValueFingerprint {
  const hooks: Record<string, unknown> = {}
  for (const [name, hook] of Object.entries(plugin)) {
    const handler = typeof hook === "function" ? hook : (hook as { handler?: unknown } | null)?.handler
    if (typeof handler === "function") hooks[name] = handler
  }
  return fingerprint(hooks)
}

function identify(plugin: Plugin, root: string): PluginIdentity {
  const name = plugin.name ?? "anonymous"
  const candidates = [name, name.split(":")[0] ?? name]
  let pkg: string | null = null
  for (const candidate of candidates) {
    const version = installedVersion(candidate, root)
    if (version !== null) {
      pkg = `${candidate}@${version}`
      break
    }
  }
  const declared = (plugin as { version?: unknown }).version
  const hooks = hooksFingerprint(plugin)
  // An installed package's version covers its code; without one, the hooks' source is all the key sees of it.
  const [unsound] = pkg === null ? hooks.unsound : []
  return {
    name,
    part: {
      name,
      package: pkg,
      version: typeof declared === "string" ? declared : null,
      hooks: hooks.key,
    },
    ...(unsound === undefined ? {} : { unsound: describeUnsound(unsound, "hook") }),
  }
}

/** The input that keys a call: the code given to `transform`, the bytes of the file `load` reads; `undefined`: not cacheable. */
async function inputOf(hook: CacheableHook, args: readonly unknown[]): Promise<string | Uint8Array | undefined> {
  if (hook === "transform") return typeof args[0] === "string" ? args[0] : undefined
  const id = args[0]
  if (typeof id !== "string" || id.startsWith("\0")) return undefined
  const file = id.split("?")[0] as string
  if (!isAbsolute(file)) return undefined
  try {
    return await readFile(file)
  } catch {
    return undefined
  }
}

/** `handler`, the plugin's `hook`, memoized in the session's cache. */
export function wrapHook(
  plugin: Plugin,
  hook: CacheableHook,
  handler: Handler,
  session: TransformSession,
  /** The plugin's name, when several plugins are wrapped: the step of the document each record is about. */
  pluginStep: string | undefined,
): Handler {
  let identity: PluginIdentity | undefined
  let optionsPart: KeyPart | undefined
  let uncacheable: Uncacheable | undefined
  const idIndex = hook === "transform" ? 1 : 0
  const step = [pluginStep, hook === "load" ? "load" : undefined].filter((word) => word !== undefined).join(" ")
  return async function cachedHook(this: object, ...args: unknown[]) {
    const current = session.current
    const root = session.root
    const id = args[idIndex]
    if (current === null || typeof id !== "string") return handler.apply(this, args)
    const path = relativeId(id, root)
    if (!session.filter(id)) return handler.apply(this, args)
    const started = performance.now()
    const input = await inputOf(hook, args)
    if (input === undefined) return handler.apply(this, args)
    if (identity === undefined) {
      identity = identify(plugin, root)
      const fingerprinted = session.options.pluginOptions === undefined ? undefined : fingerprint(session.options.pluginOptions)
      optionsPart = fingerprinted?.key
      const [unsound] = fingerprinted?.unsound ?? []
      const reason = identity.unsound ?? (unsound === undefined ? undefined : describeUnsound(unsound, "option"))
      if (reason !== undefined) uncacheable = { step: `vite plugin ${identity.name}`, reason }
    }
    const options = args[idIndex + 1] as { ssr?: boolean } | undefined
    const environment = (this as { environment?: { config?: { consumer?: string } } }).environment
    const ssr = options?.ssr ?? environment?.config?.consumer === "server"
    const parts: { [name: string]: KeyPart } = {
      adapter: ADAPTER,
      plugin: identity.part,
      options: optionsPart,
      version: session.options.version,
      hook,
      id: path,
      [hook === "transform" ? "code" : "source"]: input,
      build: { ssr, mode: session.mode },
    }
    const document: DocumentRef = { path, ...(step === "" ? {} : { step }), ...(ssr ? { variant: "ssr" } : {}) }
    let computedHere = false
    let output: HookResult
    const lookup = () =>
      memoize<StoredResult>(
        current.build.cache,
        parts,
        async (memo) => {
          computedHere = true
          const recording: Recording = { logs: [] }
          output = (await handler.apply(recordingContext(this, recording, memo), args)) as HookResult
          return toStored(output, recording.logs, memo, root)
        },
        { files: current.build.files, ...(uncacheable === undefined ? {} : { uncacheable }) },
      )
    let result: MemoResult<StoredResult>
    let stored: StoredResult | undefined
    current.transformTime.enter()
    try {
      result = await lookup()
      if (!computedHere) {
        const read = readStored(result.value)
        if ("stored" in read) stored = read.stored
        else {
          // A damaged or forged entry: a miss, a warning, a count; the entry is replaced by a fresh result.
          current.build.reject(describeDocument(document), read.invalid)
          await current.build.cache.delete(result.key)
          result = await lookup()
          if (!computedHere) {
            const again = readStored(result.value)
            if ("stored" in again) stored = again.stored
            else {
              computedHere = true
              output = (await handler.apply(this, args)) as HookResult
            }
          }
        }
      }
    } finally {
      current.transformTime.leave()
    }
    // A hook that returned nothing (a module it does not handle) is not counted, cacheable or not.
    if (result.uncacheable?.reason === NO_OUTPUT || (uncacheable !== undefined && (output === null || output === undefined)))
      return output
    if (computedHere || stored === undefined) {
      current.build.stats.record({ ...result, hit: false }, performance.now() - started, document)
      return output
    }
    // A hit, or a result shared with a concurrent identical call: replay what the hook did.
    current.build.stats.record(result.hit ? result : { ...result, hit: true, savedMs: 0 }, 0, document)
    for (const dep of result.deps) (this as { addWatchFile?: (file: string) => void }).addWatchFile?.(resolve(root, dep))
    if (stored.logs) replayLogs(this, stored.logs)
    return fromStored(stored, root)
  }
}
