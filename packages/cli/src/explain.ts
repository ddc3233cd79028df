/**
 * Why a document of the last build hit or missed: its record in the last
 * build's manifest against the record the build before kept of it
 * (`BuildManifest.previous`, written by `finishBuild` for documents that missed).
 *
 * A document's key is the hash of named parts (`memoize(cache, { content,
 * path, pipeline, ... })`), so a miss is explained part by part; dependencies
 * (`ctx.dependOn(file)`) are compared by their content hashes.
 */
import { type BuildManifest, type DocumentRecord, describeUncacheable } from "@sitecache/core"

export type KeyChange =
  /** The document's result cannot be cached (a plugin whose options cannot be fingerprinted, say): never looked up. */
  | { readonly kind: "uncacheable"; readonly step?: string; readonly reason: string }
  /** No earlier build of this tool is recorded: nothing to compare with. */
  | { readonly kind: "first-build" }
  /** The build before did not have this document. */
  | { readonly kind: "new-document" }
  /** The cache's key prefix changed (adapter version, codec, configuration): every older entry is hidden. */
  | { readonly kind: "key-prefix"; readonly before: string | null; readonly after: string | null }
  /** A named part of the key changed, appeared or disappeared. */
  | {
      readonly kind: "part"
      readonly part: string
      readonly change: "changed" | "added" | "removed"
      readonly before: string | null
      readonly after: string | null
      /** Set when the part is a plugin's fingerprint: its name (`remark-gfm`, `local:src/plugins/lint.ts`). */
      readonly plugin?: string
      /** Set when the part's name changed with it (a plugin's version in the name: `plugin:remark-gfm@4.0.1`). */
      readonly previousPart?: string
    }
  /** The key changed, and its parts were not recorded by name. */
  | { readonly kind: "key"; readonly before: string; readonly after: string }
  /** A file the computation read changed (`null`: the file did not exist). */
  | {
      readonly kind: "dependency"
      readonly path: string
      readonly change: "changed" | "created" | "deleted" | "added" | "removed"
      readonly before: string | null
      readonly after: string | null
    }
  /** Same key, same dependencies: the entry was not in the cache (never stored, evicted, pruned, cleared, expired or damaged). */
  | { readonly kind: "not-stored" }

export interface Explanation {
  readonly tool: string
  /** The document's path. */
  readonly document: string
  /** The step of the document the record is about, when the tool records several (`htmlmin`, `vite:mdx load`). */
  readonly step?: string
  /** What else tells records of one path and step apart (`ssr`). */
  readonly variant?: string
  /** ISO start time of the last build. */
  readonly build: string
  readonly hit: boolean
  readonly key: string
  /** What the build before recorded, when it had the document and this build missed. */
  readonly previous: { readonly build: string; readonly key: string; readonly hit: boolean } | null
  /** Empty on a hit. */
  readonly changes: readonly KeyChange[]
}

/** A plugin's name from a part name such as `plugin:remark-gfm@4.0.1`, `plugins.rehype-slug` or `plugin remark-toc`. */
export function pluginOf(part: string): string | undefined {
  const match = /^plugins?\s*[:./\s#]\s*(.+)$/i.exec(part)
  return match?.[1]
}

/** A plugin's name without its version: `remark-gfm@4.0.1` → `remark-gfm`, `@mdx-js/remark@3.0.0` → `@mdx-js/remark`. */
function withoutVersion(plugin: string): string {
  const at = plugin.lastIndexOf("@")
  return at > 0 ? plugin.slice(0, at) : plugin
}

/**
 * Named parts that changed, appeared or disappeared. Adapters may put a
 * plugin's version in its part's name (`plugin:remark-gfm@4.0.1`): a removed
 * and an added part of one plugin are reported as one change of that plugin.
 */
function compareParts(before: DocumentRecord, after: DocumentRecord): KeyChange[] {
  const changes: KeyChange[] = []
  const old = before.parts ?? {}
  const now = after.parts ?? {}
  const removed = Object.keys(old).filter((part) => !Object.hasOwn(now, part))
  const renamedFrom = new Map<string, string>()
  for (const part of Object.keys(now)) {
    if (Object.hasOwn(old, part)) continue
    const plugin = pluginOf(part)
    if (plugin === undefined) continue
    const was = removed.find((name) => {
      const previous = pluginOf(name)
      return previous !== undefined && withoutVersion(previous) === withoutVersion(plugin) && !renamedFrom.has(name)
    })
    if (was !== undefined) renamedFrom.set(was, part)
  }
  const renamedTo = new Map([...renamedFrom].map(([was, part]) => [part, was]))
  for (const [part, is] of Object.entries(now)) {
    const previousPart = renamedTo.get(part)
    const was = old[previousPart ?? part]
    if (was === is && previousPart === undefined) continue
    const plugin = pluginOf(part)
    changes.push({
      kind: "part",
      part,
      change: was === undefined ? "added" : "changed",
      before: was ?? null,
      after: is,
      ...(plugin === undefined ? {} : { plugin: previousPart === undefined ? plugin : withoutVersion(plugin) }),
      ...(previousPart === undefined ? {} : { previousPart }),
    })
  }
  for (const part of removed) {
    if (renamedFrom.has(part)) continue
    const plugin = pluginOf(part)
    changes.push({
      kind: "part",
      part,
      change: "removed",
      before: old[part] ?? null,
      after: null,
      ...(plugin === undefined ? {} : { plugin }),
    })
  }
  return changes
}

function compareDeps(before: DocumentRecord, after: DocumentRecord): KeyChange[] {
  const changes: KeyChange[] = []
  const old = before.deps ?? {}
  const now = after.deps ?? {}
  for (const path of new Set([...Object.keys(now), ...Object.keys(old)])) {
    const inOld = Object.hasOwn(old, path)
    const inNow = Object.hasOwn(now, path)
    const was = inOld ? (old[path] ?? null) : null
    const is = inNow ? (now[path] ?? null) : null
    if (inOld && inNow && was === is) continue
    const change = !inOld ? "added" : !inNow ? "removed" : was === null ? "created" : is === null ? "deleted" : "changed"
    changes.push({ kind: "dependency", path, change, before: was, after: is })
  }
  return changes
}

/**
 * Explain one document of `manifest`, named by its identity (`documentId`: a
 * document recorded once is its path); `undefined` when the last build did
 * not have it.
 */
export function explainDocument(manifest: BuildManifest, document: string): Explanation | undefined {
  const record = Object.hasOwn(manifest.documents, document) ? manifest.documents[document] : undefined
  if (record === undefined) return undefined
  const base = {
    tool: manifest.tool,
    document: record.path,
    ...(record.step === undefined ? {} : { step: record.step }),
    ...(record.variant === undefined ? {} : { variant: record.variant }),
    build: manifest.startedAt,
    hit: record.hit,
    key: record.key,
  }
  if (record.hit) return { ...base, previous: null, changes: [] }
  const earlier = manifest.previous
  if (record.uncacheable !== undefined) {
    // Never looked up: what changed since the build before is beside the point.
    const before = earlier !== undefined && Object.hasOwn(earlier.documents, document) ? earlier.documents[document] : undefined
    return {
      ...base,
      previous:
        earlier === undefined || before === undefined ? null : { build: earlier.startedAt, key: before.key, hit: before.hit },
      changes: [{ kind: "uncacheable", ...record.uncacheable }],
    }
  }
  if (earlier === undefined) return { ...base, previous: null, changes: [{ kind: "first-build" }] }
  const before = Object.hasOwn(earlier.documents, document) ? earlier.documents[document] : undefined
  if (before === undefined) return { ...base, previous: null, changes: [{ kind: "new-document" }] }
  const changes: KeyChange[] = []
  if (earlier.keyPrefix !== manifest.keyPrefix) {
    changes.push({ kind: "key-prefix", before: earlier.keyPrefix ?? null, after: manifest.keyPrefix ?? null })
  }
  const parts = compareParts(before, record)
  changes.push(...parts)
  if (parts.length === 0 && before.key !== record.key) changes.push({ kind: "key", before: before.key, after: record.key })
  changes.push(...compareDeps(before, record))
  if (changes.length === 0) changes.push({ kind: "not-stored" })
  return { ...base, previous: { build: earlier.startedAt, key: before.key, hit: before.hit }, changes }
}

/** What the part names adapters use stand for (unified: content, path, pipeline, plugins; vite: code, id, plugin, ...). */
const PART_NAMES: Readonly<Record<string, string>> = {
  content: "the content",
  code: "the code",
  path: "the path",
  id: "the module id",
  pipeline: "the pipeline fingerprint",
  plugin: "the plugin (its package version, source or hooks)",
  options: "the options",
  version: "the `version` given to the adapter",
  adapter: "the adapter version",
  build: "the build settings",
  stage: "the processing stage",
}

function hashes(before: string | null, after: string | null): string {
  const short = (hex: string | null) => (hex === null ? "none" : hex.slice(0, 8))
  return `${short(before)} → ${short(after)}`
}

/** One line of text per change, for people. */
export function describeChange(change: KeyChange): string {
  switch (change.kind) {
    case "uncacheable":
      return `it cannot be cached, so it is processed on every build: ${describeUncacheable(change)}`
    case "first-build":
      return "no earlier build of this tool is recorded, so there is nothing to compare with"
    case "new-document":
      return "a new document: the build before did not have it"
    case "key-prefix":
      return `the key prefix changed (${hashes(change.before, change.after)}): a new adapter version, codec or configuration hides every older entry`
    case "part": {
      const name =
        change.plugin === undefined ? (PART_NAMES[change.part] ?? `part \`${change.part}\``) : `plugin \`${change.plugin}\``
      if (change.change === "added") return `${name} is new in the key`
      if (change.change === "removed") return `${name} is no longer in the key`
      if (change.previousPart !== undefined) {
        return `${name} changed: ${pluginOf(change.previousPart) ?? change.previousPart} → ${pluginOf(change.part) ?? change.part}`
      }
      const why = change.plugin === undefined ? "" : " (its version, source or options)"
      return `${name} changed${why} (${hashes(change.before, change.after)})`
    }
    case "key":
      return `the key changed (${hashes(change.before, change.after)}); its parts were not recorded by name, so which one cannot be told`
    case "dependency":
      switch (change.change) {
        case "changed":
          return `dependency \`${change.path}\` changed (${hashes(change.before, change.after)})`
        case "created":
          return `dependency \`${change.path}\` was created (it did not exist before)`
        case "deleted":
          return `dependency \`${change.path}\` was deleted`
        case "added":
          return `it now reads \`${change.path}\`, which it did not before`
        case "removed":
          return `it no longer reads \`${change.path}\``
      }
      break
    case "not-stored":
      return "its key and dependencies did not change: the entry was not in the cache (not stored, evicted, pruned, cleared, expired or damaged)"
  }
  return ""
}
