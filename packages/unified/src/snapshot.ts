/**
 * A processed VFile as data, and back.
 *
 * A snapshot keeps what processing changed: the output `value` (string or
 * bytes; a page of text as its UTF-8 bytes, see `./text.ts`), every own
 * field of the file other than `cwd` (`data`, `map`, `result`, `stored`, and
 * custom fields plugins set on the file), the paths
 * added to `history`, and the messages added, each with every own property
 * (reason, place, source, ruleId, fatal, url, note, cause, ancestors, …) and
 * its enumerability. Restoring rebuilds real `VFileMessage` instances, so
 * `file.messages` reads exactly as after an uncached run.
 *
 * Paths are stored relative to the project root when inside it, so a cache
 * filled in one checkout restores correct paths in another.
 *
 * Only data round-trips through a cache. `uncacheableReason` finds what does
 * not (a function, a symbol, a class instance that would come back as a plain
 * object) before anything is stored, and names where it is.
 */
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
import type { VFile } from "vfile"
import { VFileMessage } from "vfile-message"
import { restoreText, textAsBytes } from "./text.js"

/** A path as stored: relative to the project root (`{ inRoot }`) when it was inside it. */
export type PortablePath = string | { readonly inRoot: string }

export interface MessageSnapshot {
  /**
   * Own properties: name, value, enumerable; or name and enumerable for a
   * property whose value is `undefined` (most of a `VFileMessage`'s), so that
   * a snapshot stays plain data for the codec (see `jsonOrV8Codec`).
   */
  readonly properties: readonly (readonly [string, unknown, boolean] | readonly [string, boolean])[]
}

export interface FileSnapshot {
  /** The output (absent for a tree snapshot, where `value` stays the input). */
  readonly value?: string | Uint8Array
  /** `value` holds the UTF-8 bytes of a string output (see `./text.ts`). */
  readonly text?: true
  readonly hasValue: boolean
  /** Own fields of the file besides `value`, `cwd`, `history` and `messages`, and besides `unset`. */
  readonly fields: Readonly<Record<string, unknown>>
  /** Own fields whose value is `undefined` (kept apart for the same reason as in `MessageSnapshot`). */
  readonly unset?: readonly string[]
  /** Paths added to `history` while processing. */
  readonly history: readonly PortablePath[]
  /** Messages added while processing. */
  readonly messages: readonly MessageSnapshot[]
}

const OWN_FIELDS = new Set(["value", "cwd", "history", "messages"])

export function toPortable(path: unknown, root: string): unknown {
  if (typeof path !== "string" || !isAbsolute(path)) return path
  const rel = relative(root, path)
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return path
  return { inRoot: rel.split(sep).join("/") }
}

export function fromPortable(path: unknown, root: string): unknown {
  if (path !== null && typeof path === "object" && typeof (path as { inRoot?: unknown }).inRoot === "string") {
    return join(root, ...(path as { inRoot: string }).inRoot.split("/"))
  }
  return path
}

/**
 * A message's `name` as vfile's `file.message()` writes it, `<file.path>:<place>`,
 * with the path in the root stored relative to it (`{ inRoot, place }`), as
 * `file` is, so a message restored in another checkout names that checkout's file.
 */
function portableName(name: unknown, file: unknown, root: string): unknown {
  if (typeof name !== "string" || typeof file !== "string" || !name.startsWith(`${file}:`)) return name
  const path = toPortable(file, root)
  return typeof path === "string" ? name : { inRoot: (path as { inRoot: string }).inRoot, place: name.slice(file.length) }
}

function nameFromPortable(name: unknown, root: string): unknown {
  if (name === null || typeof name !== "object") return name
  const { inRoot, place } = name as { inRoot?: unknown; place?: unknown }
  return typeof inRoot === "string" && typeof place === "string" ? `${fromPortable({ inRoot }, root) as string}${place}` : name
}

/** What processing left in `file`, given the lengths of `history` and `messages` before it. */
export function takeSnapshot(
  file: VFile,
  before: { readonly history: number; readonly messages: number },
  root: string,
  withValue: boolean,
): FileSnapshot {
  const fields: Record<string, unknown> = {}
  const unset: string[] = []
  for (const name of Object.keys(file)) {
    if (OWN_FIELDS.has(name)) continue
    const value = (file as unknown as Record<string, unknown>)[name]
    if (value === undefined) unset.push(name)
    else fields[name] = value
  }
  const text = withValue ? textAsBytes(file.value) : undefined
  return {
    ...(text !== undefined ? { value: text, text: true } : withValue && file.value !== undefined ? { value: file.value } : {}),
    hasValue: withValue,
    fields,
    ...(unset.length === 0 ? {} : { unset }),
    history: file.history.slice(before.history).map((path) => toPortable(path, root) as PortablePath),
    messages: file.messages.slice(before.messages).map((message) => ({
      properties: Object.getOwnPropertyNames(message).map((name) => {
        const descriptor = Object.getOwnPropertyDescriptor(message, name) as PropertyDescriptor
        const value =
          name === "file"
            ? toPortable(descriptor.value, root)
            : name === "name"
              ? portableName(descriptor.value, message.file, root)
              : descriptor.value
        const enumerable = descriptor.enumerable === true
        return value === undefined ? ([name, enumerable] as const) : ([name, value, enumerable] as const)
      }),
    })),
  }
}

/**
 * Why `value`, read from a cache, cannot be restored into `file`, or
 * `undefined` when it can. A stored snapshot is untrusted input: whoever can
 * write the cache chooses it. So it must have exactly the shape
 * `takeSnapshot` gives, name no field or message property that `file` or
 * `VFileMessage` inherit (`__proto__`, `constructor`, `toString`, the `path`
 * accessors...), and add no path to `history` outside the project root or the
 * document's own directory (a forged entry must not choose where a page is
 * written).
 */
export function snapshotFault(value: unknown, file: VFile, root: string): string | undefined {
  if (!isRecord(value)) return "not a file snapshot"
  const { hasValue, text, fields, unset, history, messages } = value
  if (typeof hasValue !== "boolean") return "`hasValue` is not a boolean"
  if (text !== undefined && (text !== true || !(value.value instanceof Uint8Array))) return "`text` without bytes"
  if (value.value !== undefined && typeof value.value !== "string" && !(value.value instanceof Uint8Array))
    return "`value` is neither text nor bytes"
  if (!isRecord(fields)) return "`fields` is not a record"
  for (const name of Object.keys(fields)) {
    const fault = fieldNameFault(file, name)
    if (fault !== undefined) return fault
  }
  if (unset !== undefined) {
    if (!Array.isArray(unset)) return "`unset` is not a list"
    for (const name of unset) {
      const fault = typeof name === "string" ? fieldNameFault(file, name) : "`unset` holds something else than names"
      if (fault !== undefined) return fault
    }
  }
  if (!Array.isArray(history)) return "`history` is not a list"
  for (const path of history) {
    const fault = historyFault(path, file, root)
    if (fault !== undefined) return fault
  }
  if (!Array.isArray(messages)) return "`messages` is not a list"
  for (const message of messages) {
    const fault = messageFault(message)
    if (fault !== undefined) return fault
  }
  return undefined
}

/** Names a restore never sets, whatever holds them. */
const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"])

function fieldNameFault(file: VFile, name: string): string | undefined {
  if (FORBIDDEN_NAMES.has(name) || OWN_FIELDS.has(name) || (name in file && !Object.hasOwn(file, name)))
    return `a field named \`${name}\``
  return undefined
}

function historyFault(path: unknown, file: VFile, root: string): string | undefined {
  if (isRecord(path)) {
    const { inRoot } = path
    if (typeof inRoot !== "string" || inRoot.includes("\0")) return "a path in `history` is not a path"
    if (inRoot.split("/").some((segment) => segment === "" || segment === "." || segment === ".."))
      return "a path in `history` leaves the project root"
    return undefined
  }
  if (typeof path !== "string" || path === "" || path.includes("\0")) return "a path in `history` is not a path"
  // A path kept as it is: outside the root when it was stored, or relative to the file's `cwd`.
  const absolute = resolve(file.cwd, path)
  const own = file.path ? dirname(resolve(file.cwd, file.path)) : undefined
  if (!isInside(absolute, root) && (own === undefined || !isInside(absolute, own)))
    return "a path in `history` is outside the project root and the document's directory"
  return undefined
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path)
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)
}

function messageFault(message: unknown): string | undefined {
  if (!isRecord(message) || !Array.isArray(message.properties)) return "a message is not a message snapshot"
  for (const property of message.properties as unknown[]) {
    if (!Array.isArray(property)) return "a message property is not a list"
    const [name] = property
    const enumerable = property.length === 3 ? property[2] : property[1]
    if ((property.length !== 2 && property.length !== 3) || typeof name !== "string" || typeof enumerable !== "boolean")
      return "a message property is not `[name, value, enumerable]`"
    if (FORBIDDEN_NAMES.has(name) || typeof (VFileMessage.prototype as unknown as Record<string, unknown>)[name] === "function")
      return `a message property named \`${name}\``
  }
  return undefined
}

/**
 * Put a snapshot back into `file`, as the run that took it left it. Check it
 * with `snapshotFault` first: fields are set as own data properties (never
 * through a setter or `__proto__`), and a record that `file` already holds
 * (`file.data`, which callers may keep) is emptied and refilled the same way.
 */
export function restoreSnapshot(file: VFile, snapshot: FileSnapshot, root: string): void {
  if (snapshot.text === true && snapshot.value instanceof Uint8Array) restoreText(file, snapshot.value)
  else if (snapshot.hasValue) (file as { value: unknown }).value = snapshot.value
  const target = file as unknown as Record<string, unknown>
  const fields = snapshot.fields
  for (const name of Object.keys(fields)) {
    const value = fields[name]
    const current = Object.hasOwn(target, name) ? target[name] : undefined
    // Keep the identity of `file.data` (and any other plain record) that callers may hold.
    if (isRecord(current) && isRecord(value) && current !== value) {
      for (const key of Object.keys(current)) delete current[key]
      for (const key of Object.keys(value)) setData(current, key, value[key], true)
    } else {
      defineData(target, name, value, true)
    }
  }
  for (const name of snapshot.unset ?? []) defineData(target, name, undefined, true)
  for (const path of snapshot.history) file.history.push(fromPortable(path, root) as string)
  for (const stored of snapshot.messages) {
    const message = Object.create(VFileMessage.prototype) as VFileMessage
    for (const property of stored.properties) {
      const [name] = property
      const value = property.length === 3 ? property[1] : undefined
      const enumerable = property.length === 3 ? property[2] : property[1]
      const restored = name === "file" ? fromPortable(value, root) : name === "name" ? nameFromPortable(value, root) : value
      setData(message, name, restored, enumerable)
    }
    file.messages.push(message)
  }
}

/** Set an own data property: unlike assignment, it never runs a setter nor replaces a prototype. */
function defineData(target: object, name: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, name, { value, enumerable, writable: true, configurable: true })
}

/**
 * `defineData` on an object that has no own property `name` yet (a message
 * being rebuilt, a record just emptied), by plain assignment where that is
 * the same thing: an enumerable property whose name no object of the
 * prototype chain holds as an accessor or a read-only property (never
 * `__proto__`). Assignment then creates exactly the own, enumerable,
 * writable, configurable property `defineData` would, several times faster
 * (a restored page sets about twenty: its data and each message's fields).
 */
function setData(target: object, name: string, value: unknown, enumerable: boolean): void {
  if (enumerable && assignable(Object.getPrototypeOf(target), name)) (target as Record<string, unknown>)[name] = value
  else defineData(target, name, value, enumerable)
}

/** Per prototype: whether assigning each name creates an own data property (see `setData`). */
const ASSIGNABLE = new WeakMap<object, Map<string, boolean>>()

function assignable(proto: object | null, name: string): boolean {
  if (name === "__proto__") return false
  if (proto === null) return true
  let names = ASSIGNABLE.get(proto)
  if (names === undefined) {
    names = new Map()
    ASSIGNABLE.set(proto, names)
  }
  let known = names.get(name)
  if (known === undefined) {
    known = true
    for (let at: object | null = proto; at !== null; at = Object.getPrototypeOf(at)) {
      const descriptor = Object.getOwnPropertyDescriptor(at, name)
      if (descriptor === undefined) continue
      known = descriptor.writable === true
      break
    }
    names.set(name, known)
  }
  return known
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const DATA_PROTOTYPES = new Set<unknown>([
  Object.prototype,
  null,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  Error.prototype,
  EvalError.prototype,
  RangeError.prototype,
  ReferenceError.prototype,
  SyntaxError.prototype,
  TypeError.prototype,
  URIError.prototype,
])

/**
 * Where `value` holds something a cache cannot give back as it is (a
 * function, a symbol, a class instance), described for a warning; or
 * `undefined` when it all round-trips.
 */
export function uncacheableReason(value: unknown, path: string): string | undefined {
  const seen = new Set<object>()
  const visit = (item: unknown, at: string): string | undefined => {
    switch (typeof item) {
      case "function":
        return `\`${at}\` holds a function`
      case "symbol":
        return `\`${at}\` holds a symbol`
      case "object":
        break
      default:
        return undefined
    }
    if (item === null || seen.has(item)) return undefined
    seen.add(item)
    if (ArrayBuffer.isView(item)) return undefined
    const proto = Object.getPrototypeOf(item)
    if (!DATA_PROTOTYPES.has(proto)) {
      const name = (proto?.constructor as { name?: string } | undefined)?.name ?? "anonymous"
      return `\`${at}\` holds a \`${name}\` instance`
    }
    if (item instanceof Map) {
      for (const [k, v] of item) {
        const found = visit(k, `${at}<key>`) ?? visit(v, `${at}.get(${String(k)})`)
        if (found !== undefined) return found
      }
      return undefined
    }
    if (item instanceof Set) {
      for (const v of item) {
        const found = visit(v, `${at}<item>`)
        if (found !== undefined) return found
      }
      return undefined
    }
    if (item instanceof Error) return visit((item as { cause?: unknown }).cause, `${at}.cause`)
    for (const name of Object.keys(item)) {
      const found = visit((item as Record<string, unknown>)[name], Array.isArray(item) ? `${at}[${name}]` : `${at}.${name}`)
      if (found !== undefined) return found
    }
    return undefined
  }
  return visit(value, path)
}

/** Why `snapshot` cannot be stored, or `undefined`. */
export function snapshotUncacheableReason(snapshot: FileSnapshot): string | undefined {
  for (const [name, value] of Object.entries(snapshot.fields)) {
    const found = uncacheableReason(value, `file.${name}`)
    if (found !== undefined) return found
  }
  for (const [index, message] of snapshot.messages.entries()) {
    for (const property of message.properties) {
      if (property.length === 2) continue
      const [name, value] = property
      const found = uncacheableReason(value, `file.messages[${index}].${name}`)
      if (found !== undefined) return found
    }
  }
  return undefined
}
