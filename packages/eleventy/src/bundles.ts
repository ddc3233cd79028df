/**
 * Side effects of Eleventy's HTML transformer on bundles: with
 * `addBundle(name, { bundleHtmlContentFromSelector: "style" })` (the official
 * starter's), a posthtml plugin moves each `<style>` of a page into the page's
 * bundle, which a later transform writes out. A stored result of the
 * transformer does not run that plugin, so the plugin records what a run
 * added to each bundle (`BundleJournal.record`) and adds it again when the
 * result is served (`replay`).
 */
import { AsyncLocalStorage } from "node:async_hooks"

/** One call of a bundle's `addToPage`: bundle name, code, bucket. */
export type BundleAddition = readonly [name: string, code: readonly string[], bucket: string | null]

interface BundleManager {
  addToPage(pageUrl: string, code?: unknown, bucket?: unknown): unknown
}

type Managers = Readonly<Record<string, BundleManager>>

interface Recording {
  readonly url: string
  readonly additions: BundleAddition[]
}

const wrapped = new WeakSet<object>()

/** A value read from a cache, as bundle additions; `undefined` when it is not exactly that shape. */
export function toBundleAdditions(value: unknown): BundleAddition[] | undefined {
  if (!Array.isArray(value)) return undefined
  const additions: BundleAddition[] = []
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 3) return undefined
    const [name, code, bucket] = item as unknown[]
    if (typeof name !== "string" || !Array.isArray(code) || !(bucket === null || typeof bucket === "string")) return undefined
    if (!code.every((entry) => typeof entry === "string")) return undefined
    additions.push([name, [...(code as string[])], bucket])
  }
  return additions
}

export class BundleJournal {
  readonly #managers: () => Managers | undefined
  readonly #storage = new AsyncLocalStorage<Recording>()

  /** `managers`: the bundle plugin's `eleventyConfig.getBundleManagers`, when it is there. */
  constructor(managers: () => Managers | undefined) {
    this.#managers = managers
  }

  #wrapAll(managers: Managers): void {
    const storage = this.#storage
    for (const [name, manager] of Object.entries(managers)) {
      if (wrapped.has(manager) || typeof manager?.addToPage !== "function") continue
      wrapped.add(manager)
      const addToPage = manager.addToPage
      manager.addToPage = function recordedAddToPage(this: BundleManager, pageUrl: string, code?: unknown, bucket?: unknown) {
        const recording = storage.getStore()
        if (recording !== undefined && recording.url === pageUrl) {
          const list = Array.isArray(code) ? code : code ? [code] : []
          if (list.every((entry) => typeof entry === "string"))
            recording.additions.push([name, [...list], typeof bucket === "string" ? bucket : null])
        }
        return addToPage.call(this, pageUrl, code, bucket)
      }
    }
  }

  /** Run `run`, and what it adds to the bundles of the page at `url`. */
  async record<T>(url: string, run: () => Promise<T>): Promise<{ value: T; additions: BundleAddition[] }> {
    const managers = this.#managers()
    if (managers !== undefined) this.#wrapAll(managers)
    const recording: Recording = { url, additions: [] }
    const value = await this.#storage.run(recording, run)
    return { value, additions: recording.additions }
  }

  /** Why `additions` cannot be added again (a bundle that is gone), or `undefined`. */
  fault(additions: readonly BundleAddition[]): string | undefined {
    if (additions.length === 0) return undefined
    const managers = this.#managers()
    for (const [name] of additions)
      if (managers === undefined || !Object.hasOwn(managers, name)) return `it adds to a bundle no longer configured ("${name}")`
    return undefined
  }

  /** Add `additions` to the bundles of the page at `url`, as the run that recorded them did. */
  replay(url: string, additions: readonly BundleAddition[]): void {
    const managers = this.#managers()
    if (managers === undefined) return
    for (const [name, code, bucket] of additions) {
      const manager = Object.hasOwn(managers, name) ? managers[name] : undefined
      manager?.addToPage(url, [...code], bucket ?? undefined)
    }
  }
}
