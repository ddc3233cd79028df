import { describe, expect, it } from "vitest"
import { childNodeArgs, conditionFlags, runChildScript } from "../src/index.js"

describe("child processes resolve packages as the test process does", () => {
  it("reads every spelling of node's --conditions flag", () => {
    expect(
      conditionFlags(["--conditions=a", "-C", "b", "--conditions", "c", "-C=d", "--import", "tsx", "--no-warnings"]),
    ).toEqual(["--conditions=a", "--conditions=b", "--conditions=c", "--conditions=d"])
  })

  it("adds no condition of its own: a process started without one gives its children none", () => {
    expect(conditionFlags([])).toEqual([])
    expect(childNodeArgs().filter((arg) => arg.startsWith("--conditions"))).toEqual(conditionFlags())
  })

  it("a child loads @sitecache/core from the same place as this process", async () => {
    const here = import.meta.resolve("@sitecache/core")
    const there = await runChildScript(`process.stdout.write(import.meta.resolve("@sitecache/core"))`, {
      cwd: new URL("..", import.meta.url).pathname,
    })
    expect(there).toBe(here)
  })
})
