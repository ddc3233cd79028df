#!/usr/bin/env node
// The `sitecache` command. Runs the built CLI (dist/) when there is one. In
// this repository, without a build, it runs the TypeScript sources: node again
// with the "source" export condition (workspace packages load from src/) and tsx.
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const built = new URL("../dist/bin.js", import.meta.url)
const sources = new URL("../src/bin.ts", import.meta.url)
const fromSources = process.execArgv.some((arg) => arg === "--conditions=source" || arg === "-C=source")

if (existsSync(built) && !fromSources) {
  await import(built.href)
} else if (fromSources) {
  await import(sources.href)
} else {
  const tsx = createRequire(import.meta.url).resolve("tsx")
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", new URL(`file://${tsx}`).href, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit" },
  )
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal))
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal)
    else process.exitCode = code ?? 1
  })
}
