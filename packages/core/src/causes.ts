/**
 * What a thrown value says about its cause, read the same way by core and
 * every backend: its `code` (Node.js system errors, SQLite, ioredis, sitecache's
 * own errors), the cause a fault is counted and warned once by, and a short
 * description for messages.
 */

/** The string `code` of a thrown value, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === "string" ? code : undefined
}

/** What a fault is warned once by: its `code`, else its class name, else `unknown`. */
export function faultCause(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.name : "unknown")
}

/** A short, single-line description of any thrown value. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = errorCode(cause)
    return code !== undefined && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message
  }
  return String(cause)
}
