/**
 * Running workspace TypeScript in a child process: the arguments that make
 * `node` load packages from their `src/` (the `source` export condition) and
 * compile TypeScript on the fly (tsx). Used for tests that need a real second
 * process: persist-and-reopen, killed writers, several writers at once.
 */
import { execFile } from "node:child_process"
import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"

const require = createRequire(import.meta.url)

/** `node` flags to run workspace TypeScript sources. */
export function sourceNodeArgs(): string[] {
  return ["--conditions=source", "--import", pathToFileURL(require.resolve("tsx")).href]
}

/** Run an ES module script (text) in a child `node`; resolves with its stdout. */
export function runChildScript(script: string, options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...sourceNodeArgs(), "--input-type=module", "--eval", script],
      { cwd: options.cwd ?? process.cwd(), timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }))
        else resolve(stdout)
      },
    )
  })
}
