/**
 * One wrapped hook of Astro's: each call for a file the step caches is
 * memoized under a key of named parts (so `sitecache explain` can tell which
 * changed): the adapter, the step, the versions of the packages that do the
 * work, a fingerprint of the configuration they read, the file's
 * project-relative path and its content.
 */
import { relative, sep } from "node:path"
import { type Key, type KeyPart, type MemoResult, memoize, type Uncacheable } from "@sitecache/core"
import type { Session } from "./session.js"
import { type Handler, handlerOf, type Step } from "./steps.js"
import { type Anchor, fromStored, invalidEntry, type StoredModule, toStored } from "./stored.js"

/** What a wrapped hook reads of the build, computed once per build by the integration. */
export interface StepContext {
  readonly session: Session
  readonly root: string
  readonly adapter: string
  /** The step's key parts that are the same for every file of a build, and whether the step can be cached. */
  shared(step: Step): { readonly tools: KeyPart; readonly config: Key; readonly uncacheable?: Uncacheable }
  anchors(): readonly Anchor[]
  warn(line: string): void
}

/** A hook that returned nothing: the step does not handle that id; not stored, not counted. */
const NO_OUTPUT = "no output"

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
    const open = context.session.current
    const file = step.file(args)
    if (file === undefined) return original.apply(this, args)
    if (open === null) {
      const off = context.session.offTime
      if (off === null) return original.apply(this, args)
      off.enter()
      try {
        return await original.apply(this, args)
      } finally {
        off.leave()
      }
    }
    const started = performance.now()
    open.busy.enter()
    try {
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
      const lookup = () =>
        memoize<StoredModule | null>(
          open.cache,
          parts,
          async (memo) => {
            computed = true
            const share = open.shares.start()
            try {
              output = await original.apply(this, args)
            } finally {
              memo.took(open.shares.stop(share))
            }
            if (output === null || output === undefined) {
              memo.uncacheable(NO_OUTPUT)
              return null
            }
            const stored = toStored(output, context.anchors())
            if ("stored" in stored) return stored.stored
            memo.uncacheable({ step: step.label, reason: `its result is ${stored.uncacheable}` })
            return null
          },
          { files: open.files, ...(shared.uncacheable === undefined ? {} : { uncacheable: shared.uncacheable }) },
        )
      let result: MemoResult<StoredModule | null> = await lookup()
      if (!computed && result.value !== null) {
        const invalid = invalidEntry(result.value)
        if (invalid !== undefined) {
          // A damaged or forged entry: a miss, one warning per build, a count; a fresh result replaces it.
          if (open.rejected++ === 0)
            context.warn(
              `ignored a cache entry of ${document} that is not a valid module (${invalid}); it is rebuilt and replaced`,
            )
          await open.cache.delete(result.key)
          result = await lookup()
          if (!computed && result.value !== null && invalidEntry(result.value) !== undefined) {
            output = await original.apply(this, args)
            computed = true
          }
        }
      }
      if (result.uncacheable?.reason === NO_OUTPUT) return output
      if (computed || result.value === null) {
        open.stats.record({ ...result, hit: false }, performance.now() - started, document)
        return computed ? output : await original.apply(this, args)
      }
      // A hit, or a result shared with a concurrent identical call.
      open.stats.record(result.hit ? result : { ...result, hit: true, savedMs: 0 }, 0, document)
      return fromStored(result.value, context.anchors())
    } finally {
      open.busy.leave()
    }
  }
}
