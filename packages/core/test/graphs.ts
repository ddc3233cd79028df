/**
 * Object graphs for the fingerprint's property-based tests: a description
 * (plain JSON, so a child process can build the same graph) and a builder that
 * makes a fresh graph from it on every call. Nodes are objects, arrays,
 * functions (with their own properties: cycles through functions), maps, sets
 * and class instances; edges point to any node (cycles, shared references) or
 * to a leaf value.
 */
import fc from "fast-check"

/** A leaf value, as JSON can carry it (`undefined` and bigints are tagged). */
export type Leaf =
  | { readonly number: number }
  | { readonly string: string }
  | { readonly boolean: boolean }
  | { readonly null: true }
  | { readonly undefined: true }
  | { readonly bigint: string }

export type Target = { readonly node: number } | { readonly leaf: Leaf }

export interface NodeSpec {
  readonly kind: "object" | "array" | "function" | "map" | "set" | "instance"
  /** For functions: the body of the function's source. */
  readonly body: string
  /** Property names (objects, functions, instances), map keys, or ignored (arrays, sets). */
  readonly edges: readonly { readonly label: string; readonly key: Leaf; readonly target: Target }[]
}

export interface GraphSpec {
  readonly nodes: readonly NodeSpec[]
}

/** Labels that are never one of a function's own properties (`name`, `length`...) nor skipped ones. */
const LABELS = ["a", "b", "c", "d", "e", "f", "g", "h", "alpha", "beta", "x-y", "0", "10", "9"]

export const leafArbitrary: fc.Arbitrary<Leaf> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((number) => ({ number })),
  fc.string({ maxLength: 8 }).map((string) => ({ string })),
  fc.boolean().map((boolean) => ({ boolean })),
  fc.constant({ null: true as const }),
  fc.constant({ undefined: true as const }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((bigint) => ({ bigint: bigint.toString() })),
)

export function graphArbitrary(maxNodes = 8): fc.Arbitrary<GraphSpec> {
  return fc.integer({ min: 1, max: maxNodes }).chain((count) =>
    fc
      .array(
        fc.record({
          kind: fc.constantFrom("object", "array", "function", "map", "set", "instance") as fc.Arbitrary<NodeSpec["kind"]>,
          body: fc.constantFrom("return 1", "return 2", "return this.a", "throw new Error('no')", ""),
          edges: fc.array(
            fc.record({
              label: fc.constantFrom(...LABELS),
              key: leafArbitrary,
              target: fc.oneof(
                fc.integer({ min: 0, max: count - 1 }).map((node) => ({ node })),
                leafArbitrary.map((leaf) => ({ leaf })),
              ),
            }),
            { maxLength: 5 },
          ),
        }),
        { minLength: count, maxLength: count },
      )
      .map((nodes) => ({ nodes })),
  )
}

export function leafValue(leaf: Leaf): unknown {
  if ("number" in leaf) return leaf.number
  if ("string" in leaf) return leaf.string
  if ("boolean" in leaf) return leaf.boolean
  if ("null" in leaf) return null
  if ("undefined" in leaf) return undefined
  return BigInt(leaf.bigint)
}

/**
 * One class for every instance node, as a plugin's option class would be.
 * Made from text, so that its source is the same in every process whatever
 * compiled this module (vitest and tsx print TypeScript differently).
 */
const Options = new Function("return class Options { constructor() { this.kind = 'options' } }")() as new () => object

export interface BuildOptions {
  /** Insert the properties of objects, functions and instances in reverse (their order must not matter). */
  readonly reversed?: boolean
}

/** A fresh graph from `spec`; its root is node 0. */
export function buildGraph(spec: GraphSpec, options: BuildOptions = {}): unknown {
  const made = spec.nodes.map((node): unknown => {
    switch (node.kind) {
      case "object":
        return {}
      case "array":
        return []
      case "function":
        // A new function (its own closure-free source) per build, as a module loaded again would make.
        return new Function(node.body)
      case "map":
        return new Map()
      case "set":
        return new Set()
      case "instance":
        return new Options()
    }
    return undefined
  })
  const resolve = (target: Target) => ("node" in target ? made[target.node] : leafValue(target.leaf))
  spec.nodes.forEach((node, index) => {
    const value = made[index]
    if (node.kind === "array") for (const edge of node.edges) (value as unknown[]).push(resolve(edge.target))
    else if (node.kind === "map")
      for (const edge of node.edges) (value as Map<unknown, unknown>).set(leafValue(edge.key), resolve(edge.target))
    else if (node.kind === "set") for (const edge of node.edges) (value as Set<unknown>).add(resolve(edge.target))
    else {
      // The last edge of a label is the property; the properties are then set in order, or in reverse.
      const properties = node.edges.filter((edge, i) => node.edges.findLastIndex((e) => e.label === edge.label) === i)
      if (options.reversed) properties.reverse()
      for (const edge of properties) {
        Object.defineProperty(value, edge.label, {
          value: resolve(edge.target),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
    }
  })
  return made[0]
}

/** The edges of `spec` that the root reaches and that hold a leaf, as [node, edge] indexes. */
export function reachableLeafEdges(spec: GraphSpec): [number, number][] {
  const seen = new Set<number>([0])
  const pending = [0]
  const found: [number, number][] = []
  while (pending.length > 0) {
    const index = pending.pop() as number
    const node = spec.nodes[index] as NodeSpec
    node.edges.forEach((edge, edgeIndex) => {
      // Only the last edge of a label counts for an object; every edge counts for arrays, maps, sets.
      if (!["array", "map", "set"].includes(node.kind) && node.edges.findLastIndex((e) => e.label === edge.label) !== edgeIndex)
        return
      if (node.kind === "map" && node.edges.findLastIndex((e) => sameLeaf(e.key, edge.key)) !== edgeIndex) return
      // A value a set holds twice is held once: changing one of the two changes nothing.
      if (
        node.kind === "set" &&
        "leaf" in edge.target &&
        node.edges.some(
          (e, i) => i !== edgeIndex && "leaf" in e.target && sameLeaf(e.target.leaf, (edge.target as { leaf: Leaf }).leaf),
        )
      )
        return
      if ("leaf" in edge.target) found.push([index, edgeIndex])
      else if (!seen.has(edge.target.node)) {
        seen.add(edge.target.node)
        pending.push(edge.target.node)
      }
    })
  }
  return found
}

/** Whether two leaves are one `Map` key (SameValueZero). */
function sameLeaf(a: Leaf, b: Leaf): boolean {
  const x = leafValue(a)
  const y = leafValue(b)
  return x === y || (Number.isNaN(x) && Number.isNaN(y))
}

/** A leaf that no fingerprint can take for `leaf`. */
export function otherLeaf(leaf: Leaf): Leaf {
  if ("number" in leaf) return { number: leaf.number + 1 }
  if ("string" in leaf) return { string: `${leaf.string}!` }
  if ("boolean" in leaf) return { boolean: !leaf.boolean }
  if ("null" in leaf) return { string: "null" }
  if ("undefined" in leaf) return { null: true }
  return { bigint: (BigInt(leaf.bigint) + 1n).toString() }
}

/** `spec` with the leaf of one edge replaced. */
export function withLeaf(spec: GraphSpec, [nodeIndex, edgeIndex]: [number, number], leaf: Leaf): GraphSpec {
  return {
    nodes: spec.nodes.map((node, index) =>
      index !== nodeIndex
        ? node
        : { ...node, edges: node.edges.map((edge, i) => (i === edgeIndex ? { ...edge, target: { leaf } } : edge)) },
    ),
  }
}
