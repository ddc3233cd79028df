#!/usr/bin/env node
/** The `sitecache` command. */
import { main } from "./main.js"

// A reader that goes away (`sitecache inspect | head -1`) is not an error, as
// for every Unix tool: what is left to print goes nowhere, the command
// finishes what it does (a prune is never cut short) and exits with its own code.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error
})

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
})
