/**
 * Fingerprints of values: the one way every adapter turns what a step's
 * output depends on beyond its input (plugin options, a plugin object, a
 * markdown library, processor settings) into a key part.
 *
 * `fingerprint(value)` walks any value and returns a `Key` (the 128-bit hash
 * of a canonical encoding), the parts of the value it could not fingerprint
 * soundly, and the work it did. It is total: it never throws, never recurses
 * (the walk keeps its own stack), never runs code of the value (no getter,
 * `toJSON`, `Symbol.toPrimitive`, `valueOf` or Proxy trap), and stops after
 * `maxNodes` objects and properties or `maxBytes` of encoding.
 *
 * Two goals pull against each other: a changed behaviour must change the
 * fingerprint (else a stale output is served), and an unchanged one must not
 * change it on every build (else every build misses without saying why). The
 * rules:
 *
 * - Encoding: every value is a tag, then a length where it has one, then its
 *   content, so no two values share bytes; the bytes start with
 *   `FINGERPRINT_VERSION`, so a new encoding misses every old entry. The
 *   property names of an object are sorted (their order never matters);
 *   array elements (holes apart from `undefined`) and `Map`/`Set` entries
 *   keep theirs: a plugin may apply a `Map` of replacements in order, so two
 *   orders may be two behaviours (a `Map` filled in a different order on
 *   each run, by racing promises, would miss on each run).
 *   An object met again (a shared reference or a cycle, through objects or
 *   functions) is written as a reference to its first visit, numbered in walk
 *   order: the walk is linear, and no identity, address, time or random value
 *   ever enters the bytes.
 * - Primitives by value (one NaN, -0 as 0); a symbol by its description
 *   (`Symbol.for` keys and well-known symbols by theirs).
 * - Objects by their own properties, read as descriptors: an accessor counts
 *   by its getter and setter functions, never by calling them. The attributes
 *   (enumerable, writable, configurable) count: they change what spreading or
 *   assigning does. Then the prototype chain, up to a built-in prototype named
 *   by its path. So a class instance is its class (the constructor's source,
 *   which is the whole class body, its parent classes, methods added to the
 *   prototype) and its own data: a plugin option that is an instance with
 *   plain own data is fingerprinted in full. An object whose prototype is
 *   `Object.prototype` or `null`, and an array of `Array.prototype`, are
 *   taken as plain at once (only a program that gave a built-in such a
 *   prototype could hide internal slots behind them).
 * - Functions by their source text, their own properties (`fn.default = fn`
 *   is a reference; `arguments` and `caller`, which describe a call in
 *   progress, are left out) and their prototype chain (a parent class). What a
 *   function closes over is invisible: a closure's captured variables (a
 *   Shiki highlighter's loaded themes live there) cannot be read by any walk.
 *   Taking functions by source is what a plugin option such as
 *   `filter: (node) => ...` needs; the plugin's package version and the
 *   adapters' `version` option cover the rest.
 * - Built-ins by their path (`Math.max`, `Map.prototype`): the same in every
 *   process of one Node.js version. Built-in types by their contents: `Date`
 *   (its time), `RegExp` (source and flags; `lastIndex` is transient and left
 *   out), `Map` and `Set` (entries), typed arrays, `ArrayBuffer`, `DataView`
 *   (bytes; extra properties on them are left out), boxed primitives, errors
 *   (their own properties but `stack`, which holds paths and lines of the
 *   call site), `URL` and `URLSearchParams` (their text), sitecache `Key`s
 *   (their bytes). `WeakMap` and `WeakSet` by their type and own properties:
 *   their entries cannot be listed, and they hold caches, not configuration.
 *
 * Unsound: where a part of the value cannot be seen, the fingerprint says so
 * (`unsound`, with the path of the part and why) and the adapter treats the
 * step as uncacheable (never looked up, never stored, named in the build
 * summary and in `sitecache explain`). That is the case for:
 *
 * - a Proxy, revoked or not: its traps decide what it shows, and reading it
 *   runs them;
 * - a bound function (its source is `function () { [native code] }`, which
 *   says nothing of its target, `this` or arguments) and a native function
 *   that is not one of the runtime's built-ins;
 * - an instance of a class whose source, or a parent class's, declares
 *   private fields (`#state`): their values cannot be read from outside the
 *   class, so two instances with different state would look the same (a
 *   class's prototype object itself is not an instance, and is fine);
 * - an object whose state lives in a built-in's internal slots: a Promise,
 *   a `WeakRef`, a generator or iterator, a `TextDecoder`, an `Intl` object...
 * - a property that cannot be read (a module namespace's binding before its
 *   initialization);
 * - a value larger than the budget (the default is far above any real plugin
 *   configuration: a markdown-it instance with its plugins is a few thousand
 *   nodes).
 *
 * What remains invisible and is accepted (refusing it would refuse nearly
 * every plugin): closures, private fields compiled to `WeakMap`s, static
 * private fields of a class given as a value, built-ins patched by the
 * program. Bump the adapter's `version` option when one of those changes.
 *
 * The walk adds no identity, time or random value of its own, so the same
 * value built again (in another process too) has the same fingerprint. A
 * value that itself holds one (`new Date()`, a random id, a process id) is a
 * value that changed: its step misses on every build, and the build manifest
 * (`sitecache explain`) names the plugin whose part changed.
 */
import { Walk } from "./fingerprint-walk.js"
import { hashBytes, type Key } from "./key.js"

/** Why a part of a value cannot be fingerprinted soundly. */
export type UnsoundCode =
  | "proxy"
  | "bound-function"
  | "native-function"
  | "private-fields"
  | "hidden-state"
  | "unreadable"
  | "budget"

/** A part of a value that the fingerprint cannot see. */
export interface UnsoundPart {
  /** Where in the value, as JavaScript would reach it (`highlighter`, `plugins[2].render`); `""` for the value itself. */
  readonly path: string
  readonly code: UnsoundCode
  /** Why, for people, as a predicate of the part: `is a bound function (bound render): what it calls cannot be seen`. */
  readonly reason: string
}

/** Version of the encoding: part of every fingerprint, so a new encoding is a new key for every value. */
export const FINGERPRINT_VERSION = 1

export interface FingerprintOptions {
  /** Objects and properties to visit at most. Default 200,000. */
  readonly maxNodes?: number
  /** Bytes of encoding to produce at most. Default 32 MiB. */
  readonly maxBytes?: number
}

/** What `fingerprint(value)` found. */
export interface ValueFingerprint {
  /** Hash of the value's canonical encoding: a key part. */
  readonly key: Key
  /** The parts that cannot be fingerprinted soundly (the first few): empty when the fingerprint is sound. */
  readonly unsound: readonly UnsoundPart[]
  /** Objects and properties visited. */
  readonly nodes: number
  /** Bytes of encoding hashed. */
  readonly bytes: number
}

const DEFAULT_MAX_NODES = 200_000
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024

/**
 * Fingerprint any value (see the rules at the top of this module).
 *
 * @example
 * const options = fingerprint(pluginOptions)
 * if (options.unsound.length > 0) console.log(describeUnsound(options.unsound[0], "option"))
 * else await memo(cache, { options: options.key, content }, render)
 */
export function fingerprint(value: unknown, options: FingerprintOptions = {}): ValueFingerprint {
  const walk = new Walk(
    `sitecache-fingerprint/${FINGERPRINT_VERSION}`,
    options.maxNodes ?? DEFAULT_MAX_NODES,
    options.maxBytes ?? DEFAULT_MAX_BYTES,
  )
  try {
    walk.run(value)
  } catch (error) {
    // Nothing in the walk throws by design; should the runtime (out of memory), the value is refused, not the build.
    walk.refuse(null, "unreadable", `could not be read (${error instanceof Error ? error.message : String(error)})`)
  }
  const result = { key: hashBytes(walk.out.bytes()), unsound: walk.unsound, nodes: walk.nodes, bytes: walk.out.length }
  walk.out.release()
  return result
}

/**
 * An unsound part for people, `what` naming the value that was fingerprinted
 * and `base` its own path, if any:
 * ``option `highlighter` is a bound function (bound render): what it calls cannot be seen``.
 */
export function describeUnsound(part: UnsoundPart, what: string, base = ""): string {
  const path = base === "" || part.path === "" || part.path.startsWith("[") ? base + part.path : `${base}.${part.path}`
  return path === "" ? `the ${what} ${part.reason}` : `${what} \`${path}\` ${part.reason}`
}
