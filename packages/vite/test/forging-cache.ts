/**
 * A cache that hands the adapter a forged value as it is, for testing the
 * adapter's own checks on what it restores.
 */
import { type Cache, type Key, type KeyLike, toKey } from "@sitecache/core"

/**
 * `cache`, except that reading `key` gives `value` untouched, until `key` is
 * deleted: what a cache whose decoder kept own `__proto__` keys would hand the
 * adapter. A sitecache `StoreCache` refuses such a value itself before any
 * adapter sees it (core's test/hostile.test.ts); this checks the adapter's
 * own defence behind that one, which any other `Cache` relies on.
 */
export function handingBack(cache: Cache, key: Key, value: unknown): Cache {
  let forged = true
  return new Proxy(cache, {
    get(target, property) {
      if (property === "get") {
        return async (k: KeyLike) => (forged && toKey(k).equals(key) ? structuredClone(value) : target.get(k))
      }
      if (property === "delete") {
        return async (k: KeyLike) => {
          if (toKey(k).equals(key)) forged = false
          return target.delete(k)
        }
      }
      const member = Reflect.get(target, property, target) as unknown
      return typeof member === "function" ? member.bind(target) : member
    },
  })
}
