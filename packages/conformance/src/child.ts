/**
 * Running a module in a child process that loads packages the way this one
 * does: with the export conditions this process was started with (in this
 * repository's tests, `@sitecache/source`, so workspace packages load from
 * `src/`; for a backend installed from the registry, none, so packages load
 * from what they ship), and tsx, so a backend's own tests may be TypeScript.
 * Used for tests that need a real second process: persist-and-reopen, killed
 * writers, several writers at once.
 */
import { execFile } from "node:child_process"
import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"

const require = createRequire(import.meta.url)

/** The `--conditions` flags of `execArgv` (each as `--conditions=<name>`). */
export function conditionFlags(execArgv: readonly string[] = process.execArgv): string[] {
  const flags: string[] = []
  execArgv.forEach((arg, i) => {
    const inline = /^(?:--conditions|-C)=(.+)$/.exec(arg)?.[1]
    const next = arg === "--conditions" || arg === "-C" ? execArgv[i + 1] : undefined
    const name = inline ?? next
    if (name !== undefined) flags.push(`--conditions=${name}`)
  })
  return flags
}

/** `node` flags for a child that resolves packages as this process does and runs TypeScript. */
export function childNodeArgs(): string[] {
  return [...conditionFlags(), "--import", pathToFileURL(require.resolve("tsx")).href]
}

/** Run an ES module script (text) in a child `node`; resolves with its stdout. */
export function runChildScript(script: string, options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...childNodeArgs(), "--input-type=module", "--eval", script],
      { cwd: options.cwd ?? process.cwd(), timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }))
        else resolve(stdout)
      },
    )
  })
}
