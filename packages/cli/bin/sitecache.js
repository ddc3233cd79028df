#!/usr/bin/env node
// The `sitecache` command. Runs the built CLI (dist/). In this repository,
// where the TypeScript sources are beside it, it runs them instead when node
// has the "@sitecache/source" export condition, or when there is no build:
// node again with that condition (workspace packages load from src/) and tsx.
// An installed package ships no sources, so it always runs dist/, whatever
// conditions node was given.
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const built = new URL("../dist/bin.js", import.meta.url)
const sources = new URL("../src/bin.ts", import.meta.url)
const hasSources = existsSync(sources)
const fromSources =
  hasSources &&
  process.execArgv.some(
    (arg, i, all) =>
      arg === "--conditions=@sitecache/source" ||
      (arg === "@sitecache/source" && (all[i - 1] === "-C" || all[i - 1] === "--conditions")),
  )

if (fromSources) {
  await import(sources.href)
} else if (existsSync(built) || !hasSources) {
  await import(built.href)
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
