#!/usr/bin/env node
// The `blog` command. Runs the built CLI (dist/) when there is one. In this
// repository, without a build, it runs the TypeScript sources: node again with
// the "@sitecache/source" export condition (workspace packages load from src/) and tsx.
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const built = new URL("../dist/cli.js", import.meta.url)
const sources = new URL("../src/cli.ts", import.meta.url)
const fromSources = process.execArgv.some(
  (arg, i, all) =>
    arg === "--conditions=@sitecache/source" ||
    (arg === "@sitecache/source" && (all[i - 1] === "-C" || all[i - 1] === "--conditions")),
)

if (existsSync(built) || fromSources) {
  const cli = await import((existsSync(built) && !fromSources ? built : sources).href)
  process.exitCode = await cli.main(process.argv.slice(2))
} else {
  const tsx = createRequire(import.meta.url).resolve("tsx")
  const child = spawn(
    process.execPath,
    [
      "--conditions=@sitecache/source",
      "--import",
      new URL(`file://${tsx}`).href,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: "inherit" },
  )
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal))
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal)
    else process.exitCode = code ?? 1
  })
}
