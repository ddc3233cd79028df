import { describe, expect, it } from "vitest"
import { formatBytes, formatMs } from "../src/index.js"

describe("formatBytes", () => {
  it("reads in binary units, one decimal below 10", () => {
    expect(formatBytes(512)).toBe("512 B")
    expect(formatBytes(1536)).toBe("1.5 KiB")
    expect(formatBytes(123 * 1024)).toBe("123 KiB")
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.0 GiB")
  })

  it("says — for a figure that is missing or not finite", () => {
    expect(formatBytes(undefined)).toBe("—")
    expect(formatBytes(Number.NaN)).toBe("—")
  })
})

describe("formatMs", () => {
  it("reads in ms below a second, in seconds above", () => {
    expect(formatMs(4.25)).toBe("4.3 ms")
    expect(formatMs(73)).toBe("73 ms")
    expect(formatMs(1034)).toBe("1.03 s")
  })

  it("says — for a figure that is missing or not finite", () => {
    expect(formatMs(undefined)).toBe("—")
    expect(formatMs(Number.POSITIVE_INFINITY)).toBe("—")
  })
})
