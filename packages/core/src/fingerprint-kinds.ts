/**
 * What kind of object the fingerprint walk has met, told without running
 * any of the object's code: `util.types` brand checks, property descriptors,
 * and the built-ins' own methods, captured here when this module loads,
 * called on objects of their own kind (a `Map` subclass may override
 * `entries`; `Map.prototype.entries` is still what reads its entries).
 */
import { types } from "node:util"
import type { UnsoundCode } from "./fingerprint.js"
import { type Intrinsics, privateNames } from "./intrinsics.js"

const proto = Reflect.getPrototypeOf
const own = Reflect.getOwnPropertyDescriptor
const getter = (object: object, name: string | symbol) => own(object, name)?.get as (this: unknown) => unknown

export const functionSource = Function.prototype.toString
export const dateTime = Date.prototype.getTime as (this: unknown) => number
export const regExpSource = getter(RegExp.prototype, "source") as (this: unknown) => string
export const regExpFlags = getter(RegExp.prototype, "flags") as (this: unknown) => string
export const mapEntries = Map.prototype.entries as (this: unknown) => IterableIterator<[unknown, unknown]>
export const mapSize = getter(Map.prototype, "size") as (this: unknown) => number
export const setValues = Set.prototype.values as (this: unknown) => IterableIterator<unknown>
export const setSize = getter(Set.prototype, "size") as (this: unknown) => number

const typedArrayPrototype = proto(Uint8Array.prototype) as object
const typedArrayTag = getter(typedArrayPrototype, Symbol.toStringTag) as (this: unknown) => string
const typedArrayBuffer = getter(typedArrayPrototype, "buffer") as (this: unknown) => ArrayBufferLike
const typedArrayOffset = getter(typedArrayPrototype, "byteOffset") as (this: unknown) => number
const typedArrayLength = getter(typedArrayPrototype, "byteLength") as (this: unknown) => number
const dataViewBuffer = getter(DataView.prototype, "buffer") as (this: unknown) => ArrayBufferLike
const dataViewOffset = getter(DataView.prototype, "byteOffset") as (this: unknown) => number
const dataViewLength = getter(DataView.prototype, "byteLength") as (this: unknown) => number
const urlHref = getter(URL.prototype, "href") as (this: unknown) => string
const searchParamsText = URLSearchParams.prototype.toString as (this: unknown) => string
const boxedValueOf = [
  [types.isNumberObject, Number.prototype.valueOf],
  [types.isStringObject, String.prototype.valueOf],
  [types.isBooleanObject, Boolean.prototype.valueOf],
  [types.isBigIntObject, BigInt.prototype.valueOf],
  [types.isSymbolObject, Symbol.prototype.valueOf],
] as const

/** A typed array's, `DataView`'s or buffer's kind and bytes. */
export function viewBytes(view: object): { kind: string; bytes: Uint8Array } {
  if (types.isAnyArrayBuffer(view))
    return {
      kind: types.isSharedArrayBuffer(view) ? "SharedArrayBuffer" : "ArrayBuffer",
      bytes: new Uint8Array(view as ArrayBuffer),
    }
  if (types.isDataView(view))
    return {
      kind: "DataView",
      bytes: new Uint8Array(dataViewBuffer.call(view), dataViewOffset.call(view), dataViewLength.call(view)),
    }
  return {
    kind: typedArrayTag.call(view),
    bytes: new Uint8Array(typedArrayBuffer.call(view), typedArrayOffset.call(view), typedArrayLength.call(view)),
  }
}

/** The primitive inside a boxed primitive (`Object(1)`). */
export function boxedPrimitive(object: object): unknown {
  for (const [is, primitiveOf] of boxedValueOf) if (is(object)) return (primitiveOf as (this: unknown) => unknown).call(object)
  return undefined
}

/** Whether `object` is a class's (or function's) prototype object: it holds none of an instance's state. */
export function isPrototypeObject(object: object): boolean {
  const ctor = own(object, "constructor")?.value
  return typeof ctor === "function" && !types.isProxy(ctor) && own(ctor, "prototype")?.value === object
}

/** What a prototype chain says of the objects deriving from it. */
export type ChainKind =
  /** Nothing hidden: the objects are their own properties (and the kind their brand says). */
  | { readonly hidden?: undefined; readonly builtin?: undefined }
  /** A `URL` or `URLSearchParams`: all its text, read from each object. */
  | { readonly hidden?: undefined; readonly builtin: "URL.prototype" | "URLSearchParams.prototype" }
  /** State that cannot be read: private fields, or a built-in's internal slots (unless a brand check knows the kind). */
  | { readonly hidden: Exclude<UnsoundCode, "budget">; readonly reason: string; readonly builtin?: undefined }

const PLAIN: ChainKind = {}

/**
 * What objects deriving from `prototype` are: the chain is followed up to the
 * first built-in prototype (a built-in whose instances keep their state in
 * internal slots is `hidden-state`), and a class on the way whose source
 * declares private fields makes them `private-fields`.
 */
export function chainKind(prototype: object, builtins: Intrinsics): ChainKind {
  let at: object | null = prototype
  for (let steps = 0; at !== null && steps < 10_000; steps++) {
    if (types.isProxy(at)) return PLAIN
    const builtin = builtins.names.get(at)
    if (builtin !== undefined) {
      if (!builtins.stateful.has(at)) return PLAIN
      if (builtin === "URL.prototype" || builtin === "URLSearchParams.prototype") return { builtin }
      const name = builtin.replace(/\.prototype$/, "")
      return { hidden: "hidden-state", reason: `is a \`${name}\`: a built-in whose state cannot be read` }
    }
    const ctor = own(at, "constructor")?.value
    const names = classPrivateNames(ctor)
    if (names.length > 0) {
      const className = own(ctor as object, "name")?.value
      const shown = names.slice(0, 3).join(", ") + (names.length > 3 ? ", ..." : "")
      const shownClass = typeof className === "string" && className !== "" ? className : "(anonymous class)"
      return {
        hidden: "private-fields",
        reason: `is an instance of \`${shownClass}\`, whose private fields (${shown}) cannot be read`,
      }
    }
    at = proto(at)
  }
  return PLAIN
}

/** Why a value with no known brand hides its state in a built-in's slots, if it does. */
export function hiddenBrand(object: object): string | undefined {
  if (types.isPromise(object)) return "is a Promise: its value cannot be read synchronously"
  if (types.isGeneratorObject(object) || types.isMapIterator(object) || types.isSetIterator(object))
    return "is an iterator: its position cannot be seen"
  return undefined
}

/** The text of a `URL` or `URLSearchParams`, read by the built-in's own getter (which throws for an impostor). */
export function builtinText(object: object, prototype: "URL.prototype" | "URLSearchParams.prototype"): string | undefined {
  try {
    return prototype === "URL.prototype" ? `URL ${urlHref.call(object)}` : `URLSearchParams ${searchParamsText.call(object)}`
  } catch {
    // An object deriving from the prototype without being one (`Object.create(URL.prototype)`).
    return undefined
  }
}

const privateNamesOf = new WeakMap<object, readonly string[]>()

/** The private names a class's source declares (none for a function that is not a class). */
function classPrivateNames(ctor: unknown): readonly string[] {
  if (typeof ctor !== "function" || types.isProxy(ctor)) return []
  let names = privateNamesOf.get(ctor)
  if (names === undefined) {
    const source = functionSource.call(ctor)
    names = source.startsWith("class") ? privateNames(source) : []
    privateNamesOf.set(ctor, names)
  }
  return names
}
