/**
 * The walk behind `fingerprint()` (its rules are at the top of
 * `fingerprint.ts`). It keeps its own stack of tasks instead of recursing, so
 * no depth of nesting can overflow the call stack, and it reads the value only
 * through operations that run none of the value's code: `typeof`,
 * `util.types` brand checks, `Reflect.ownKeys` and property descriptors on
 * objects that are not Proxies, and the built-ins' own methods called on
 * their own kinds (`Map.prototype.entries`, the `RegExp` getters).
 *
 * One class of about 400 lines: every method writes to the same output and
 * task stack in an order the encoding depends on, which is easier to check
 * in one place.
 */
import { types } from "node:util"
import type { UnsoundCode, UnsoundPart } from "./fingerprint.js"
import {
  GETTER,
  Output,
  type Path,
  PROTOTYPE,
  pathText,
  SETTER,
  type SpecialSegment,
  symbolText,
  Tag,
} from "./fingerprint-encoding.js"
import {
  boxedPrimitive,
  builtinText,
  type ChainKind,
  chainKind,
  dateTime,
  functionSource,
  hiddenBrand,
  isPrototypeObject,
  mapEntries,
  mapSize,
  regExpFlags,
  regExpSource,
  setSize,
  setValues,
  viewBytes,
} from "./fingerprint-kinds.js"
import { intrinsics } from "./intrinsics.js"
import { Key } from "./key.js"

/** A value to visit. It is also the path of that value: its children's tasks point to it. */
interface Visit extends Path {
  readonly value: unknown
  readonly name?: undefined
}

/** A property's name and attributes, written just before its value. */
interface Property {
  readonly name: string | symbol
  readonly flags: number
  readonly accessor: boolean
}

type Task = Visit | Property

/** Unsound parts listed at most: one is enough to refuse, a few help to fix. */
const MAX_LISTED = 8
const ROOT: SpecialSegment = { text: "" }

/** Markers queued in place of an element or property (never a value of the program's). */
const HOLE: SpecialSegment = { text: "hole" }
const ACCESSOR: SpecialSegment = { text: "accessor" }
const UNREADABLE: SpecialSegment = { text: "unreadable" }

/** A function's own properties that describe its current call, not the function (`null` unless it is running). */
const CALL_PROPERTIES = new Set(["arguments", "caller"])

const proto = Reflect.getPrototypeOf
const own = Reflect.getOwnPropertyDescriptor
const LAST_INDEX: ReadonlySet<string> = new Set(["lastIndex"])
const STACK: ReadonlySet<string> = new Set(["stack"])
const PLAIN: ChainKind = {}

export class Walk {
  readonly out = new Output()
  readonly unsound: UnsoundPart[] = []
  /** Objects and properties visited. */
  nodes = 0
  readonly #maxNodes: number
  readonly #maxBytes: number
  /** Each object visited → the number of its visit, written when it is met again. */
  readonly #ids = new Map<object, number>()
  readonly #tasks: Task[] = []
  readonly #builtins = intrinsics()
  /** Prototype → what its instances are (a walk meets many instances of a few classes). */
  readonly #kinds = new Map<object, ChainKind>()
  #stopped = false

  constructor(header: string, maxNodes: number, maxBytes: number) {
    this.#maxNodes = maxNodes
    this.#maxBytes = maxBytes
    this.out.string(header)
  }

  run(root: unknown): void {
    const tasks = this.#tasks
    tasks.push({ value: root, parent: null, segment: ROOT })
    while (tasks.length > 0) {
      const task = tasks.pop() as Task
      if (task.name !== undefined) {
        this.#name(task.name)
        this.out.tag(task.accessor ? Tag.Accessor : Tag.Data)
        this.out.tag(task.flags)
      } else {
        this.#visit(task.value, task)
        if (this.out.length > this.#maxBytes) this.#exhausted(task, `${this.#maxBytes} bytes`)
      }
    }
  }

  /** Record an unsound part, and write its marker in place of the value. */
  refuse(path: Path | null, code: Exclude<UnsoundCode, "budget">, reason: string): void {
    if (this.unsound.length < MAX_LISTED) this.unsound.push({ path: pathText(path), code, reason })
    this.out.tag(Tag.Unsound)
    this.out.string(code)
  }

  /** The budget is spent: stop where the walk is (the same place for the same value, every time). */
  #exhausted(path: Path, what: string): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#tasks.length = 0
    this.unsound.push({ path: pathText(path), code: "budget", reason: `is too large to fingerprint (more than ${what})` })
    this.out.tag(Tag.Budget)
  }

  /** Count `count` nodes; false (and the walk stopped) when that exceeds the budget. */
  #spend(count: number, path: Path): boolean {
    this.nodes += count
    if (this.nodes <= this.#maxNodes) return true
    this.#exhausted(path, `${this.#maxNodes} objects and properties`)
    return false
  }

  /** Whether `bytes` more bytes fit; false (and the walk stopped) when they do not. */
  #fits(bytes: number, path: Path): boolean {
    if (this.out.length + bytes <= this.#maxBytes) return true
    this.#exhausted(path, `${this.#maxBytes} bytes`)
    return false
  }

  #name(name: string | symbol): void {
    if (typeof name === "string") {
      this.out.tag(Tag.String)
      this.out.string(name)
    } else {
      this.out.tag(Tag.Symbol)
      this.out.string(symbolText(name))
    }
  }

  #visit(value: unknown, path: Visit): void {
    switch (typeof value) {
      case "undefined":
        this.out.tag(Tag.Undefined)
        return
      case "boolean":
        this.out.tag(value ? Tag.True : Tag.False)
        return
      case "number":
        this.out.tag(Tag.Number)
        this.out.number(value)
        return
      case "bigint":
        this.out.tag(Tag.BigInt)
        this.out.string(value.toString())
        return
      case "string":
        if (!this.#fits(value.length * 2, path)) return
        this.out.tag(Tag.String)
        this.out.string(value)
        return
      case "symbol":
        this.#name(value)
        return
    }
    if (value === null) this.out.tag(Tag.Null)
    else if (value === HOLE) this.out.tag(Tag.Hole)
    else if (value === ACCESSOR) this.out.tag(Tag.Accessor)
    else if (value === UNREADABLE) this.refuse(path, "unreadable", "cannot be read")
    else this.#object(value as object, path)
  }

  #object(object: object, path: Visit): void {
    const id = this.#ids.get(object)
    if (id !== undefined) {
      this.out.tag(Tag.Reference)
      this.out.uint32(id)
      return
    }
    const builtin = this.#builtins.names.get(object)
    if (builtin !== undefined) {
      this.out.tag(Tag.Builtin)
      this.out.string(builtin)
      return
    }
    // Before anything else reads it: every operation on a Proxy (a revoked one too) may run a trap or throw.
    if (types.isProxy(object)) {
      this.refuse(path, "proxy", "is a Proxy: what it shows depends on its handler, which reading it would run")
      return
    }
    if (!this.#spend(1, path)) return
    this.#ids.set(object, this.#ids.size)
    if (typeof object === "function") {
      this.#function(object, path)
      return
    }
    const prototype = proto(object)
    // Most of a value: plain objects and arrays. Only a program that replaced a built-in's prototype (a `Map`
    // made to inherit from `Object.prototype`) could hide internal slots behind this test.
    if (prototype === Object.prototype || prototype === null) {
      this.out.tag(Tag.Object)
      this.#members(object, path, [], undefined)
      return
    }
    if (prototype === Array.prototype && Array.isArray(object)) {
      this.#array(object as unknown[], path)
      return
    }
    // A sitecache key is its bytes (its class caches their hex in a private field). Not `instanceof`: it would
    // run the traps of a Proxy in the prototype chain.
    if (prototype === Key.prototype) {
      this.out.tag(Tag.Key)
      this.out.raw((object as Key).bytes)
      return
    }
    // Anything else may be an instance of a class: its prototype chain says whether its state can be seen.
    const chain = isPrototypeObject(object) ? PLAIN : this.#chain(prototype)
    if (chain.hidden === "private-fields") this.refuse(path, chain.hidden, chain.reason)
    else if (Array.isArray(object)) this.#array(object, path)
    else if (types.isArrayBufferView(object) || types.isAnyArrayBuffer(object)) this.#bytes(object, path)
    else if (types.isMap(object)) this.#map(object, path)
    else if (types.isSet(object)) this.#set(object, path)
    else this.#other(object, chain, path)
  }

  #chain(prototype: object): ChainKind {
    let kind = this.#kinds.get(prototype)
    if (kind === undefined) {
      kind = chainKind(prototype, this.#builtins)
      this.#kinds.set(prototype, kind)
    }
    return kind
  }

  #function(fn: object, path: Visit): void {
    const source = functionSource.call(fn)
    if (source.endsWith("[native code] }")) {
      const name = own(fn, "name")?.value
      if (typeof name === "string" && name.startsWith("bound ")) {
        this.refuse(path, "bound-function", `is a bound function (${name}): what it calls cannot be seen`)
      } else {
        const shown = typeof name === "string" && name !== "" ? ` (${name})` : ""
        this.refuse(
          path,
          "native-function",
          `is a native function${shown} that is not a JavaScript built-in: its code cannot be seen`,
        )
      }
      return
    }
    if (!this.#fits(source.length * 2, path)) return
    this.out.tag(Tag.Function)
    this.out.string(source)
    this.#members(fn, path, [], CALL_PROPERTIES)
  }

  /** An array: its elements in order (a hole is not `undefined`), then its other own properties. */
  #array(array: unknown[], path: Visit): void {
    const length = array.length
    if (!this.#spend(length, path)) return
    this.out.tag(Tag.Array)
    this.out.uint32(length)
    const elements: Task[] = []
    for (let i = 0; i < length; i++) {
      let descriptor: PropertyDescriptor | undefined
      try {
        descriptor = own(array, i)
      } catch {
        elements.push({ value: UNREADABLE, parent: path, segment: i })
        continue
      }
      if (descriptor === undefined) {
        elements.push({ value: HOLE, parent: path, segment: i })
      } else if ("value" in descriptor) {
        elements.push({ value: descriptor.value, parent: path, segment: i })
      } else {
        const at: Visit = { value: ACCESSOR, parent: path, segment: i }
        elements.push(
          at,
          { value: descriptor.get, parent: at, segment: GETTER },
          { value: descriptor.set, parent: at, segment: SETTER },
        )
      }
    }
    this.#members(array, path, elements, undefined)
  }

  /** Typed arrays, `DataView`s and buffers: their kind and bytes (extra properties on them are left out). */
  #bytes(view: object, path: Visit): void {
    const { kind, bytes } = viewBytes(view)
    if (!this.#fits(bytes.byteLength, path)) return
    this.out.tag(Tag.Bytes)
    this.out.string(kind)
    this.out.raw(bytes)
    this.#tasks.push({ value: proto(view), parent: path, segment: PROTOTYPE })
  }

  #map(map: object, path: Visit): void {
    const size = mapSize.call(map)
    if (!this.#spend(size * 2, path)) return
    this.out.tag(Tag.Map)
    this.out.uint32(size)
    const entries: Task[] = []
    let i = 0
    for (const [key, value] of mapEntries.call(map)) {
      entries.push({ value: key, parent: path, segment: { text: `.<key ${i}>` } })
      entries.push({ value, parent: path, segment: { text: `.<value ${i}>` } })
      i++
    }
    this.#members(map, path, entries, undefined)
  }

  #set(set: object, path: Visit): void {
    const size = setSize.call(set)
    if (!this.#spend(size, path)) return
    this.out.tag(Tag.Set)
    this.out.uint32(size)
    const entries: Task[] = []
    let i = 0
    for (const value of setValues.call(set)) entries.push({ value, parent: path, segment: { text: `.<value ${i++}>` } })
    this.#members(set, path, entries, undefined)
  }

  /** Everything else: built-ins known by their contents, and objects that are their own properties. */
  #other(object: object, chain: ChainKind, path: Visit): void {
    let skip: ReadonlySet<string> | undefined
    if (types.isDate(object)) {
      this.out.tag(Tag.Date)
      this.out.number(dateTime.call(object))
    } else if (types.isRegExp(object)) {
      this.out.tag(Tag.RegExp)
      this.out.string(regExpSource.call(object))
      this.out.string(regExpFlags.call(object))
      skip = LAST_INDEX
    } else if (types.isBoxedPrimitive(object)) {
      this.out.tag(Tag.Boxed)
      this.#visit(boxedPrimitive(object), path)
    } else if (types.isWeakMap(object) || types.isWeakSet(object)) {
      this.out.tag(Tag.WeakCollection)
      this.out.tag(types.isWeakMap(object) ? 1 : 2)
    } else if (types.isNativeError(object)) {
      this.out.tag(Tag.Object)
      skip = STACK
    } else {
      const hidden = hiddenBrand(object)
      if (hidden !== undefined) {
        this.refuse(path, "hidden-state", hidden)
        return
      }
      if (chain.hidden !== undefined) {
        this.refuse(path, chain.hidden, chain.reason)
        return
      }
      const text = chain.builtin === undefined ? undefined : builtinText(object, chain.builtin)
      if (text === undefined) {
        this.out.tag(Tag.Object)
      } else {
        this.out.tag(Tag.Url)
        this.out.string(text)
      }
    }
    this.#members(object, path, [], skip)
  }

  /**
   * Queue what follows an object's header: its elements or entries (given),
   * its prototype, then its own properties with their names sorted (symbols
   * after strings, by their text). The property count is written now; the
   * tasks are pushed in reverse, since the last pushed runs first.
   */
  #members(object: object, path: Visit, entries: Task[], skip: ReadonlySet<string> | undefined): void {
    const isArray = Array.isArray(object)
    const names: string[] = []
    const symbols: symbol[] = []
    for (const name of Reflect.ownKeys(object)) {
      if (typeof name === "symbol") symbols.push(name)
      else if (!(skip?.has(name) || (isArray && (name === "length" || isIndex(name))))) names.push(name)
    }
    if (!this.#spend(names.length + symbols.length, path)) return
    names.sort()
    if (symbols.length > 1) symbols.sort((a, b) => compareText(symbolText(a), symbolText(b)))
    entries.push({ value: proto(object), parent: path, segment: PROTOTYPE })
    this.out.uint32(names.length + symbols.length)
    for (const name of names) this.#property(object, name, path, entries)
    for (const name of symbols) this.#property(object, name, path, entries)
    const tasks = this.#tasks
    for (let i = entries.length - 1; i >= 0; i--) tasks.push(entries[i] as Task)
  }

  #property(object: object, name: string | symbol, path: Visit, entries: Task[]): void {
    let descriptor: PropertyDescriptor | undefined
    try {
      descriptor = own(object, name)
    } catch {
      // A module namespace's binding before its initialization.
      entries.push({ name, flags: 0, accessor: false }, { value: UNREADABLE, parent: path, segment: name })
      return
    }
    if (descriptor === undefined) {
      entries.push({ name, flags: 0, accessor: false }, { value: HOLE, parent: path, segment: name })
      return
    }
    const flags = (descriptor.enumerable ? 1 : 0) | (descriptor.writable ? 2 : 0) | (descriptor.configurable ? 4 : 0)
    if ("value" in descriptor) {
      entries.push({ name, flags, accessor: false }, { value: descriptor.value, parent: path, segment: name })
    } else {
      const at: Path = { parent: path, segment: name }
      entries.push(
        { name, flags, accessor: true },
        { value: descriptor.get, parent: at, segment: GETTER },
        { value: descriptor.set, parent: at, segment: SETTER },
      )
    }
  }
}

function isIndex(name: string): boolean {
  const code = name.charCodeAt(0)
  if (code < 48 || code > 57) return false
  const index = Number(name)
  return Number.isInteger(index) && index < 2 ** 32 - 1 && String(index) === name
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
