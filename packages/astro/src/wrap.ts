/**
 * One wrapped hook of Astro's: each call for a file the step caches is
 * memoized in the build of core's session, under a key of named parts (so
 * `sitecache explain` can tell which changed): the adapter, the step, the
 * versions of the packages that do the work, a fingerprint of the
 * configuration they read, the file's project-relative path and its content.
 */
import { relative, sep } from "node:path"
import type { Build, BusyTime, FairShare, Key, KeyPart, Uncacheable } from "@sitecache/core"
import { type Handler, handlerOf, type Step } from "./steps.js"
import { type Anchor, fromStored, invalidEntry, type StoredModule, toStored } from "./stored.js"

/** The build in progress, as a wrapped hook sees it. */
export interface CurrentBuild {
  /** `undefined` when the cache is off. */
  readonly build: Build | undefined
  /** Wall time inside the wrapped steps (lookups included when the cache is on). */
  readonly busy: BusyTime
  /** Shares of the wall time of the steps that ran (what a hit will save). */
  readonly shares: FairShare
}

/** What a wrapped hook reads of the integration. */
export interface StepContext {
  /** The build in progress, or `undefined` between builds. */
  current(): CurrentBuild | undefined
  readonly root: string
  readonly adapter: string
  /** The step's key parts that are the same for every file of a build, and whether the step can be cached. */
  shared(step: Step): { readonly tools: KeyPart; readonly config: Key; readonly uncacheable?: Uncacheable }
  anchors(): readonly Anchor[]
}

const wrapped = new WeakSet<object>()

/** The project-relative path, `/`-separated; a file outside the root keeps its absolute path. */
export function projectPath(file: string, root: string): string {
  const rel = relative(root, file)
  if (rel.startsWith("..") || rel === "") return file
  return rel.split(sep).join("/")
}

/** Wrap `step`'s hook of `plugin` (once per plugin object: Astro makes one per Vite build). */
export function wrapStep(plugin: Record<string, unknown>, step: Step, context: StepContext): void {
  if (wrapped.has(plugin)) return
  wrapped.add(plugin)
  const hook = plugin[step.hook]
  const original = handlerOf(hook) as Handler
  const cached = cachedHook(original, step, context)
  plugin[step.hook] = typeof hook === "function" ? cached : { ...(hook as object), handler: cached }
}

function cachedHook(original: Handler, step: Step, context: StepContext): Handler {
  return async function cachedStep(this: unknown, ...args: unknown[]) {
    const current = context.current()
    const file = current === undefined ? undefined : step.file(args)
    if (current === undefined || file === undefined) return original.apply(this, args)
    const { build, busy, shares } = current
    busy.enter()
    try {
      if (build === undefined) return await original.apply(this, args)
      const input = await step.input(args, file)
      if (input === undefined) return await original.apply(this, args)
      const shared = context.shared(step)
      const document = projectPath(file, context.root)
      const parts: { [name: string]: KeyPart } = {
        adapter: context.adapter,
        step: step.label,
        tools: shared.tools,
        config: shared.config,
        id: document,
        source: input,
      }
      let output: unknown
      let computed = false
      const result = await build.memoize<StoredModule | null>(
        parts,
        async (memo) => {
          computed = true
          const share = shares.start()
          try {
            output = await original.apply(this, args)
          } finally {
            memo.took(shares.stop(share))
          }
          const stored = toStored(output, context.anchors())
          if ("stored" in stored) return stored.stored
          memo.uncacheable({ step: step.label, reason: `its result is ${stored.uncacheable}` })
          return null
        },
        {
          document,
          // A damaged or forged entry: a miss, one warning, a count; the page renders and its result replaces the entry.
          validate: (value) => {
            const invalid = invalidEntry(value)
            if (invalid !== undefined) build.rejected++
            return invalid
          },
          ...(shared.uncacheable === undefined ? {} : { uncacheable: shared.uncacheable }),
        },
      )
      if (computed) return output
      // A hit, or a result shared with a concurrent identical call that could not be stored.
      return result.value === null ? await original.apply(this, args) : fromStored(result.value, context.anchors())
    } finally {
      busy.leave()
    }
  }
}
