import { describe, expect, it } from "vitest"
import { CacheFaultError, describeCause, errorCode, faultCause } from "../src/index.js"

describe("error causes", () => {
  it("errorCode reads a string code, and nothing else", () => {
    expect(errorCode(Object.assign(new Error("full"), { code: "ENOSPC" }))).toBe("ENOSPC")
    expect(errorCode(Object.assign(new Error("x"), { code: 28 }))).toBeUndefined()
    expect(errorCode(null)).toBeUndefined()
    expect(errorCode("ENOSPC")).toBeUndefined()
  })

  it("a fault is warned once by its code, else its class, else unknown", () => {
    expect(faultCause(Object.assign(new Error("x"), { code: "EACCES" }))).toBe("EACCES")
    expect(faultCause(new RangeError("x"))).toBe("RangeError")
    expect(faultCause(42)).toBe("unknown")
    expect(faultCause(new CacheFaultError("fs", "put", new Error("x")))).toBe("SITECACHE_FAULT")
  })

  it("describeCause names the code once", () => {
    expect(describeCause(Object.assign(new Error("no space left"), { code: "ENOSPC" }))).toBe("ENOSPC: no space left")
    expect(describeCause(Object.assign(new Error("ENOSPC: no space left"), { code: "ENOSPC" }))).toBe("ENOSPC: no space left")
    expect(describeCause("plain")).toBe("plain")
  })
})
