/**
 * The runtime's built-ins, as the fingerprint sees them: native functions and
 * built-in prototypes are named by their path (`Array.prototype.push`,
 * `Map.prototype`) instead of walked. A native function has no source text to
 * hash, and a built-in prototype is the same in every process of one Node.js
 * version; naming them is what makes `[].push` or a `Map` fingerprintable at
 * all, and keeps the walk from crossing into the whole global object.
 *
 * The registry is built once, from a fixed list of global names (never from
 * whatever the program added to `globalThis`), reading property descriptors
 * only: no getter of the global object runs. A function reachable by several
 * paths keeps the first in this fixed order, so a name is the same in every
 * process.
 */
import { Blob, Buffer } from "node:buffer"
import { TextDecoder, TextEncoder } from "node:util"
import { BroadcastChannel, MessageChannel, MessagePort } from "node:worker_threads"

/** ECMAScript's and Node.js's global constructors, functions and namespaces. */
const GLOBAL_NAMES = [
  "Object",
  "Function",
  "Array",
  "Number",
  "Boolean",
  "String",
  "Symbol",
  "BigInt",
  "Date",
  "RegExp",
  "Error",
  "AggregateError",
  "EvalError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "TypeError",
  "URIError",
  "Promise",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "WeakRef",
  "FinalizationRegistry",
  "Proxy",
  "Reflect",
  "JSON",
  "Math",
  "Atomics",
  "Intl",
  "WebAssembly",
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "parseInt",
  "parseFloat",
  "isNaN",
  "isFinite",
  "decodeURI",
  "decodeURIComponent",
  "encodeURI",
  "encodeURIComponent",
  "escape",
  "unescape",
  "eval",
  "URL",
  "URLSearchParams",
  "AbortController",
  "AbortSignal",
  "EventTarget",
  "Event",
  "MessageEvent",
  "queueMicrotask",
  "structuredClone",
  "atob",
  "btoa",
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "setImmediate",
  "clearImmediate",
] as const

/**
 * Node.js globals that `globalThis` defines as lazy getters (not read here:
 * a getter of the global object may be a program's), taken from their modules.
 */
const MODULE_GLOBALS: readonly (readonly [string, unknown])[] = [
  ["Buffer", Buffer],
  ["Blob", Blob],
  ["TextEncoder", TextEncoder],
  ["TextDecoder", TextDecoder],
  ["MessageChannel", MessageChannel],
  ["MessagePort", MessagePort],
  ["BroadcastChannel", BroadcastChannel],
]

/**
 * Built-in prototypes without hidden state: an object deriving from one of
 * these holds everything in its own properties. Every other built-in
 * prototype (`TextDecoder.prototype`, `Intl.Collator.prototype`, an iterator's)
 * belongs to objects whose state lives in internal slots that only their
 * methods can read.
 */
const STATELESS_PROTOTYPES = new Set<string>([
  "Object.prototype",
  "Function.prototype",
  "Array.prototype",
  "Error.prototype",
  "AggregateError.prototype",
  "EvalError.prototype",
  "RangeError.prototype",
  "ReferenceError.prototype",
  "SyntaxError.prototype",
  "TypeError.prototype",
  "URIError.prototype",
  "%IteratorPrototype%",
  "%AsyncIteratorPrototype%",
  "%AsyncFunction.prototype%",
  "%GeneratorFunction.prototype%",
  "%AsyncGeneratorFunction.prototype%",
])

export interface Intrinsics {
  /** Built-in functions and objects → their path. */
  readonly names: ReadonlyMap<object, string>
  /** Built-in prototypes whose instances keep their state in internal slots. */
  readonly stateful: ReadonlySet<object>
}

let registry: Intrinsics | undefined

/** The registry of built-ins (built on first use). */
export function intrinsics(): Intrinsics {
  registry ??= build()
  return registry
}

function isNative(fn: unknown): boolean {
  if (typeof fn !== "function") return false
  try {
    return Function.prototype.toString.call(fn).endsWith("[native code] }")
  } catch {
    return false
  }
}

function build(): Intrinsics {
  const names = new Map<object, string>()
  const prototypes = new Map<object, string>()
  const addFunction = (fn: unknown, name: string) => {
    if (isNative(fn) && !names.has(fn as object)) names.set(fn as object, name)
  }
  const addPrototype = (object: unknown, name: string) => {
    if (object === null || (typeof object !== "object" && typeof object !== "function")) return
    if (!names.has(object)) names.set(object, name)
    if (!prototypes.has(object)) prototypes.set(object, name)
    addMembers(object, name)
  }
  /** Native functions among the data properties and accessors of `object`. */
  const addMembers = (object: object, name: string) => {
    for (const property of Reflect.ownKeys(object)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(object, property)
      const member = typeof property === "symbol" ? `${name}[${property.description ?? ""}]` : `${name}.${property}`
      if (descriptor === undefined) continue
      if ("value" in descriptor) addFunction(descriptor.value, member)
      else {
        addFunction(descriptor.get, `${member} (get)`)
        addFunction(descriptor.set, `${member} (set)`)
      }
    }
  }
  const addConstructor = (value: unknown, name: string) => {
    if (typeof value === "function") {
      addFunction(value, name)
      addMembers(value, name)
      const prototype = Reflect.getOwnPropertyDescriptor(value, "prototype")?.value
      if (prototype !== null && typeof prototype === "object") addPrototype(prototype, `${name}.prototype`)
    } else if (value !== null && typeof value === "object") {
      // A namespace (Math, JSON, Intl): its functions, and the constructors it holds (Intl.Collator).
      names.set(value, name)
      addMembers(value, name)
      for (const property of Reflect.ownKeys(value)) {
        const inner = Reflect.getOwnPropertyDescriptor(value, property)?.value
        if (typeof property === "string" && typeof inner === "function") addConstructor(inner, `${name}.${property}`)
      }
    }
  }
  for (const name of GLOBAL_NAMES) {
    const descriptor = Reflect.getOwnPropertyDescriptor(globalThis, name)
    if (descriptor !== undefined && "value" in descriptor) addConstructor(descriptor.value, name)
  }
  for (const [name, value] of MODULE_GLOBALS) addConstructor(value, name)
  // Intrinsics no global names.
  const proto = Object.getPrototypeOf as (value: unknown) => unknown
  const arrayIterator = proto([][Symbol.iterator]())
  const generatorFunction = proto(function* () {}) as object
  const asyncFunction = proto(async () => {}) as object
  const asyncGeneratorFunction = proto(async function* () {}) as object
  const hidden: [unknown, string][] = [
    [proto(Uint8Array), "%TypedArray%"],
    [proto(arrayIterator), "%IteratorPrototype%"],
    [arrayIterator, "%ArrayIteratorPrototype%"],
    [proto(new Map().entries()), "%MapIteratorPrototype%"],
    [proto(new Set().values()), "%SetIteratorPrototype%"],
    [proto(""[Symbol.iterator]()), "%StringIteratorPrototype%"],
    [proto(/a/[Symbol.matchAll]("")), "%RegExpStringIteratorPrototype%"],
    [generatorFunction, "%GeneratorFunction.prototype%"],
    [Reflect.getOwnPropertyDescriptor(generatorFunction, "prototype")?.value, "%GeneratorPrototype%"],
    [asyncFunction, "%AsyncFunction.prototype%"],
    [asyncGeneratorFunction, "%AsyncGeneratorFunction.prototype%"],
    [Reflect.getOwnPropertyDescriptor(asyncGeneratorFunction, "prototype")?.value, "%AsyncGeneratorPrototype%"],
    [proto(Reflect.getOwnPropertyDescriptor(asyncGeneratorFunction, "prototype")?.value), "%AsyncIteratorPrototype%"],
  ]
  for (const [object, name] of hidden) addPrototype(object, name)
  const typedArray = proto(Uint8Array)
  if (typeof typedArray === "function") addConstructor(typedArray, "%TypedArray%")
  addConstructor(Reflect.getOwnPropertyDescriptor(generatorFunction, "constructor")?.value, "%GeneratorFunction%")
  addConstructor(Reflect.getOwnPropertyDescriptor(asyncFunction, "constructor")?.value, "%AsyncFunction%")
  addConstructor(Reflect.getOwnPropertyDescriptor(asyncGeneratorFunction, "constructor")?.value, "%AsyncGeneratorFunction%")
  addFunction(Reflect.getOwnPropertyDescriptor(Function.prototype, "caller")?.get, "%ThrowTypeError%")
  const stateful = new Set<object>()
  for (const [object, name] of prototypes) if (!STATELESS_PROTOTYPES.has(name)) stateful.add(object)
  return { names, stateful }
}

/**
 * The private names (`#cache`) a class's source declares or uses, strings,
 * template literals and comments aside. A regular expression literal holding
 * `#name` is taken for one too: the error is on the safe side (the instance
 * is not cached).
 */
export function privateNames(source: string): string[] {
  const found = new Set<string>()
  const code = withoutStringsAndComments(source)
  for (const match of code.matchAll(/#([A-Za-z_$][\w$]*)/g)) found.add(`#${match[1]}`)
  return [...found]
}

/** `source` with the contents of strings, template literals and comments blanked (their `${}` parts kept). */
function withoutStringsAndComments(source: string): string {
  let out = ""
  let i = 0
  /** Brace depth of each `${` entered, so its `}` returns to the template. */
  const templates: number[] = []
  let depth = 0
  const length = source.length
  const template = (): void => {
    // Inside a template literal, after its opening backtick or a `}` closing a `${`.
    while (i < length) {
      const char = source[i] as string
      if (char === "\\") {
        i += 2
      } else if (char === "`") {
        out += "`"
        i++
        return
      } else if (char === "$" && source[i + 1] === "{") {
        out += "${"
        i += 2
        templates.push(depth)
        depth++
        return
      } else {
        i++
      }
    }
  }
  while (i < length) {
    const char = source[i] as string
    const next = source[i + 1]
    if (char === "/" && next === "/") {
      const end = source.indexOf("\n", i)
      i = end === -1 ? length : end
    } else if (char === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2)
      i = end === -1 ? length : end + 2
    } else if (char === '"' || char === "'") {
      i++
      while (i < length && source[i] !== char && source[i] !== "\n") i += source[i] === "\\" ? 2 : 1
      i++
      out += '""'
    } else if (char === "`") {
      out += "`"
      i++
      template()
    } else if (char === "{") {
      depth++
      out += char
      i++
    } else if (char === "}") {
      depth--
      out += char
      i++
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop()
        template()
      }
    } else {
      out += char
      i++
    }
  }
  return out
}
