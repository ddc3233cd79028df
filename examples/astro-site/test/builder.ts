/**
 * `astro build`, several times in one process: what the `astro build` command
 * runs after reading its flags (Astro's `build()`, with the project's
 * `astro.config.mjs`, which Astro imports afresh for each build), in the
 * working directory, once for each line read on standard input.
 *
 * A line is `{ "outDir": string, "env"?: Record<string, string> }` (`env` is
 * set for that build only). The build writes what the command would on
 * standard output; then this prints a line of the marker given as its first
 * argument followed by `{ "error" }` (`null` when the build succeeded). Ends
 * when standard input does.
 *
 * astro-site.test.ts starts it once (with tsx, like the command) so that the
 * builds after the first do not each pay for a new process loading Astro,
 * Vite and the integration's sources.
 */
import { createInterface } from "node:readline"
import { build } from "astro"

/** What separates one build's output from the next. */
const DONE = process.argv[2] ?? "DONE "

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue
  const request = JSON.parse(line) as { outDir: string; env?: Record<string, string> }
  const saved = new Map<string, string | undefined>()
  for (const [name, value] of Object.entries(request.env ?? {})) {
    saved.set(name, process.env[name])
    process.env[name] = value
  }
  let error: string | null = null
  try {
    await build({ root: process.cwd(), outDir: request.outDir })
  } catch (caught) {
    error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught)
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
  process.stdout.write(`\n${DONE}${JSON.stringify({ error })}\n`)
}
