import { afterEach, describe, expect, it, vi } from "vitest"
import { BusyTime, FairShare } from "../src/timing.js"

afterEach(() => vi.restoreAllMocks())

/** A clock the test moves by hand (performance.now). */
function clock(): (ms: number) => void {
  let now = 1000
  vi.spyOn(performance, "now").mockImplementation(() => now)
  return (ms) => {
    now += ms
  }
}

describe("BusyTime", () => {
  it("counts the union of overlapping calls, not the sum of their durations", () => {
    const advance = clock()
    const busy = new BusyTime()
    busy.enter()
    advance(10)
    busy.enter() // overlaps the first
    advance(10)
    busy.leave()
    advance(5)
    busy.leave()
    advance(100) // idle: not counted
    expect(busy.ms).toBe(25)
    busy.leave() // an extra leave changes nothing
    expect(busy.ms).toBe(25)
  })
})

describe("FairShare", () => {
  it("charges each running step an equal share of the time it overlaps others", () => {
    const advance = clock()
    const shares = new FairShare()
    const a = shares.start()
    advance(10) // a alone: 10
    const b = shares.start()
    advance(10) // a and b: 5 each
    expect(shares.stop(a)).toBe(15)
    advance(4) // b alone: 4
    expect(shares.stop(b)).toBe(9)
  })
})
