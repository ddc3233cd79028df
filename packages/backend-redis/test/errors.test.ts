import { ENTRY_OFFSETS } from "@sitecache/core"
import { describe, expect, it } from "vitest"
import { DeadlineError, withDeadline } from "../src/deadline.js"
import { classifyRedisError, isNoScript, pipelineResults, RedisFaultError, replyCode } from "../src/errors.js"
import { ADD_SCRIPT } from "../src/script.js"

/** What ioredis rejects with for an error reply (redis-errors' `ReplyError`: the name is the class's). */
class ReplyError extends Error {
  override get name(): string {
    return "ReplyError"
  }
}

const notConnected = (cause: unknown) => new RedisFaultError("not connected", "ECONNREFUSED", { cause })
const ready = { ready: true, notConnected }
const down = { ready: false, notConnected }

describe("Redis errors are classified by code, never by message text", () => {
  it("an error reply by its kind, the reply's first word", () => {
    const fault = classifyRedisError(new ReplyError("OOM command not allowed when used memory > 'maxmemory'."), ready)
    expect(fault).toMatchObject({ code: "OOM", replied: true })
    expect(replyCode(new ReplyError("NOSCRIPT No matching script. Please use EVAL."))).toBe("NOSCRIPT")
    expect(isNoScript(new ReplyError("NOSCRIPT No matching script."))).toBe(true)
    expect(replyCode(new ReplyError("something lower-case"))).toBe("ERR")
    // A plain error whose text looks like a reply is not one.
    expect(replyCode(new Error("NOSCRIPT No matching script."))).toBeUndefined()
    expect(isNoScript(new Error("NOSCRIPT No matching script."))).toBe(false)
  })

  it("a system error by its code", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })
    expect(classifyRedisError(reset, ready)).toMatchObject({ code: "ECONNRESET", replied: false })
    expect(classifyRedisError(reset, down)).toMatchObject({ code: "ECONNRESET" })
  })

  it("a deadline by its class", async () => {
    const late = await withDeadline(new Promise(() => {}), 5).catch((error: unknown) => error)
    expect(late).toBeInstanceOf(DeadlineError)
    expect(classifyRedisError(late, ready)).toMatchObject({ code: "ETIMEDOUT" })
    // ioredis' own timeout text, without a code, is not mistaken for one.
    expect(classifyRedisError(new Error("Command timed out"), ready)).toMatchObject({ code: "EREDIS" })
  })

  it("ioredis' refusals without a code by the connection's state", () => {
    for (const text of ["Connection is closed.", "Stream isn't writeable and enableOfflineQueue options is false", "anything"]) {
      expect(classifyRedisError(new Error(text), down)).toMatchObject({ code: "ECONNREFUSED" })
      expect(classifyRedisError(new Error(text), ready)).toMatchObject({ code: "EREDIS" })
    }
    const discarded = (() => {
      try {
        pipelineResults(null)
      } catch (error) {
        return error
      }
    })()
    expect(classifyRedisError(discarded, ready)).toMatchObject({ code: "ECONNREFUSED" })
  })

  it("a fault already classified passes through", () => {
    const fault = new RedisFaultError("x", "NOPERM", { replied: true })
    expect(classifyRedisError(fault, down)).toBe(fault)
  })
})

describe("the put-if-absent script", () => {
  it("reads the header with the entry format's offsets", () => {
    const head = ENTRY_OFFSETS.expires + 8
    expect(ADD_SCRIPT).toContain(`'GETRANGE', KEYS[1], 0, ${head - 1})`)
    expect(ADD_SCRIPT).toContain(`string.len(head) == ${head}`)
    expect(ADD_SCRIPT).toContain(`string.sub(head, ${ENTRY_OFFSETS.expires + 1}, ${ENTRY_OFFSETS.expires + 8})`)
    expect(ADD_SCRIPT).toContain(`string.sub(head, ${ENTRY_OFFSETS.magic + 1}, ${ENTRY_OFFSETS.magic + 4}) == '\\83\\67\\69\\0'`)
  })
})
