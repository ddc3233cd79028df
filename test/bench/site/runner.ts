/**
 * Run one configuration in a child process (workspace TypeScript sources via
 * `childNodeArgs()`), so that its peak RSS is its own, and read its result.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { childNodeArgs } from "@sitecache/conformance"
import type { ChildResult, ChildSpec } from "./child.js"

const childFile = fileURLToPath(new URL("./child.ts", import.meta.url))
const running = new Set<ChildProcess>()

/** Kill the children still running (the suite was interrupted). */
export function killChildren(): void {
  for (const child of running) child.kill("SIGKILL")
}

export function runChild(spec: ChildSpec, options: { timeoutMs?: number } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childNodeArgs(), childFile, JSON.stringify(spec)], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    })
    running.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15 * 60_000)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      const line = stdout.split("\n").find((text) => text.startsWith("RESULT "))
      if (code !== 0 || line === undefined) {
        reject(
          new Error(
            `bench site: ${spec.config} on ${spec.root} exited with ${signal ?? code}\n${stderr.trim().slice(-4000)}\n${stdout.trim().slice(-2000)}`,
          ),
        )
        return
      }
      resolve(JSON.parse(line.slice("RESULT ".length)) as ChildResult)
    })
  })
}
