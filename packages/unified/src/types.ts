import type { VFile } from "vfile"

/**
 * What the adapter uses of a unified processor (`unified()` with plugins):
 * any unified 11 processor fits.
 */
export interface ProcessorLike {
  /** Plugins and the parameters given to `use`, in order. */
  readonly attachers: readonly (readonly [unknown, ...unknown[]])[]
  data(key: string): unknown
  data(key: string, value: unknown): unknown
  use(plugin: unknown, ...parameters: unknown[]): unknown
  freeze(): unknown
  parse(file: VFile): unknown
  run(tree: never, file: VFile): Promise<unknown>
  process(file: VFile): Promise<unknown>
}

/** A syntax tree (mdast, hast, …). */
export interface Tree {
  readonly type: string
  readonly [field: string]: unknown
}
