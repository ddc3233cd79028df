/** Opening the jsonfile backend as a user would: through core's `createCache`, knowing only its name or its module. */
import { createCache as create, type StoreCache } from "@sitecache/core"

export type { OpenOptions } from "@sitecache/conformance"

/** A cache on `backend` (a name or a module specifier) at `location`, with the conformance suite's options. */
export function createCache(
  backend: string,
  options: {
    readonly location: string
    readonly clock?: () => number
    readonly mode?: "read-write" | "read-only" | "write-only"
    readonly onWarning?: (message: string, cause: unknown) => void
    readonly strict?: boolean
  },
): Promise<StoreCache> {
  const { location, clock, onWarning, ...config } = options
  return create(
    { backend, dir: location, root: location, ...config },
    {
      resolveFrom: import.meta.url,
      ...(clock === undefined ? {} : { clock }),
      ...(onWarning === undefined ? {} : { onWarning }),
    },
  )
}
