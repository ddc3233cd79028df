#!/usr/bin/env node
/** The `sitecache` command. */
import { main } from "./main.js"

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
})
