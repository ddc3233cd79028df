/**
 * Real `redis-server` processes for tests: a single server or a Redis Cluster
 * of several masters, each on free loopback ports, in a temporary directory,
 * with no persistence (`--save "" --appendonly no`). Every process started
 * here is killed when the test process exits, even after a crash.
 *
 * ```ts
 * import { describeWithRedis, startRedisServer } from "../support/redis.js"
 *
 * describeWithRedis("my suite", () => {
 *   let server: RedisServer
 *   beforeAll(async () => { server = await startRedisServer() })
 *   afterAll(() => server.stop())
 *   it("...", async () => { await server.command("SET", "k", "v") })
 * })
 * ```
 *
 * Where `redis-server` is not installed, `describeWithRedis` registers its
 * suite as skipped (every test in it shows as a skip, none as a pass) and
 * warns why; under `CI=true` it also registers one failing test that says so,
 * as CI must run the Redis tests.
 *
 * Only 127.0.0.0/8 is used. The shared server on 6379 is never touched.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs"
import { createConnection, createServer } from "node:net"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { describe, it } from "vitest"

/** The loopback address every server binds to. */
export const REDIS_HOST = "127.0.0.1"

/** A reply of the minimal RESP client: strings for simple and bulk strings, `null` for nil. */
export type RedisReply = string | number | null | RedisReply[] | RedisReplyError

/** An error reply (`-ERR ...`), returned rather than thrown by `redisCommand`. */
export class RedisReplyError extends Error {
  override readonly name = "RedisReplyError"
}

/** One running (or stopped) `redis-server` process. */
export interface RedisServer {
  readonly host: string
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** The server's working directory (removed by `stop`). */
  readonly dir: string
  /** The process id, or `undefined` while stopped. */
  readonly pid: number | undefined
  /** Whether the process is running (it may be paused). */
  readonly running: boolean
  /** Send one command with the minimal RESP client; error replies are returned as `RedisReplyError`. */
  command(...args: (string | number | Uint8Array)[]): Promise<RedisReply>
  /** Kill the process (default `SIGKILL`, as a crash) and wait for it to exit; the port and directory are kept. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Start again on the same port with the same arguments (after `kill`); resolves when it answers PING. */
  restart(): Promise<void>
  /** Freeze the process (`SIGSTOP`): connections are accepted by the kernel but nothing is answered. */
  pause(): void
  /** Thaw a paused process (`SIGCONT`). */
  resume(): void
  /** Kill the process and remove its directory. Idempotent. */
  stop(): Promise<void>
  /** What the server printed (for failure messages). */
  log(): string
}

export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]`. */
  readonly args?: readonly string[]
  /** A fixed port; default a free one (and retried on a clash). */
  readonly port?: number
  /** Start a cluster-enabled node (`--cluster-enabled yes`); its bus port is `port + 10000`. */
  readonly clusterEnabled?: boolean
  /** How long to wait for the first PONG. Default 10 s. */
  readonly startTimeoutMs?: number
}

/** A Redis Cluster of several masters (no replicas). */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[]
  /** Seed nodes for `new Cluster(seeds)` / `redis.nodes`. */
  readonly seeds: readonly { readonly host: string; readonly port: number }[]
  /** Stop every node. Idempotent. */
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()
const dirs = new Set<string>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once("exit", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL")
      } catch {}
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
}

function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** Paths of `redis-server` and `redis-cli` (`REDIS_SERVER_BIN` / `REDIS_CLI_BIN` override), or `undefined`. */
export function findRedisBinaries(): { server: string; cli: string | undefined } | undefined {
  const server = process.env.REDIS_SERVER_BIN || findExecutable("redis-server")
  if (server === undefined) return undefined
  return { server, cli: process.env.REDIS_CLI_BIN || findExecutable("redis-cli") }
}

/** Whether Redis tests run here, and if not whether that is a failure (`CI=true`) and why. */
export type RedisTestPlan = { readonly run: true } | { readonly run: false; readonly fail: boolean; readonly message: string }

/** Decide whether Redis tests run: they need `redis-server` (and `redis-cli` for clusters). */
export function redisTestPlan(options: { cluster?: boolean } = {}): RedisTestPlan {
  const binaries = findRedisBinaries()
  const missing =
    binaries === undefined ? "redis-server" : options.cluster === true && binaries.cli === undefined ? "redis-cli" : undefined
  if (missing === undefined) return { run: true }
  const ci = process.env.CI === "true" || process.env.CI === "1"
  return {
    run: false,
    fail: ci,
    message: ci
      ? `${missing} is not installed but CI=true: the Redis tests must run in CI (apt-get install redis-server)`
      : `${missing} not found: Redis tests not run (install redis-server to run them; under CI=true this fails)`,
  }
}

/**
 * `describe(name, body)` when `redis-server` is available. Otherwise the same
 * suite skipped, so that its tests are reported as skips, and under `CI=true`
 * one failing test naming what is missing.
 */
export function describeWithRedis(name: string, body: () => void, options: { cluster?: boolean } = {}): void {
  const plan = redisTestPlan(options)
  if (plan.run) {
    describe(name, body)
    return
  }
  console.warn(`${name}: ${plan.message}`)
  describe.skip(name, body)
  if (plan.fail) {
    it(`${name}: ${plan.message}`, () => {
      throw new Error(plan.message)
    })
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", reject)
    server.listen({ port, host: REDIS_HOST, exclusive: true }, () => {
      const address = server.address()
      const bound = typeof address === "object" && address !== null ? address.port : port
      server.close(() => resolve(bound))
    })
  })
}

/**
 * A loopback port that is free right now. With `bus`, `port + 10000` is free
 * too (a cluster node's bus port). Another process may still take it before
 * use: `startRedisServer` retries on a clash.
 */
export async function freePort(options: { bus?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Stay below 55535 so the bus port is valid, and above the usual service ports.
    const candidate = options.bus ? 20_000 + Math.floor(Math.random() * 35_000) : 0
    try {
      const port = await listenOnce(candidate)
      if (options.bus) await listenOnce(port + 10_000)
      return port
    } catch {}
  }
  throw new Error("freePort: no free loopback port found")
}

function encodeCommand(args: readonly (string | number | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const bytes = arg instanceof Uint8Array ? Buffer.from(arg) : Buffer.from(String(arg), "utf8")
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"))
  }
  return Buffer.concat(parts)
}

/** Parse one RESP reply at `offset`: `[reply, next offset]`, or `undefined` when incomplete. */
function parseReply(buffer: Buffer, offset: number): [RedisReply, number] | undefined {
  const lineEnd = buffer.indexOf("\r\n", offset)
  if (lineEnd < 0) return undefined
  const type = String.fromCharCode(buffer[offset] ?? 0)
  const line = buffer.toString("utf8", offset + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case "+":
      return [line, next]
    case "-":
      return [new RedisReplyError(line), next]
    case ":":
      return [Number(line), next]
    case "$": {
      const length = Number(line)
      if (length < 0) return [null, next]
      if (buffer.length < next + length + 2) return undefined
      return [buffer.toString("utf8", next, next + length), next + length + 2]
    }
    case "*": {
      const count = Number(line)
      if (count < 0) return [null, next]
      const items: RedisReply[] = []
      let at = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at)
        if (item === undefined) return undefined
        items.push(item[0])
        at = item[1]
      }
      return [items, at]
    }
    default:
      throw new Error(`redisCommand: unexpected reply type ${JSON.stringify(type)}`)
  }
}

/**
 * Send one command to a server over a fresh connection and return its reply
 * (error replies are returned as `RedisReplyError`, connection failures reject).
 * For test setup (CONFIG SET, CLUSTER INFO, ...), not for speed.
 */
export function redisCommand(
  port: number,
  args: readonly (string | number | Uint8Array)[],
  options: { host?: string; timeoutMs?: number } = {},
): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: options.host ?? REDIS_HOST })
    let buffer = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`redisCommand ${String(args[0])}: no reply from port ${port} within ${options.timeoutMs ?? 2000} ms`))
    }, options.timeoutMs ?? 2000)
    socket.once("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      let parsed: [RedisReply, number] | undefined
      try {
        parsed = parseReply(buffer, 0)
      } catch (error) {
        clearTimeout(timer)
        socket.destroy()
        reject(error)
        return
      }
      if (parsed === undefined) return
      clearTimeout(timer)
      socket.end()
      resolve(parsed[0])
    })
    socket.write(encodeCommand(args))
  })
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

class RedisServerProcess implements RedisServer {
  readonly host = REDIS_HOST
  readonly port: number
  readonly dir: string
  readonly #binary: string
  readonly #args: readonly string[]
  readonly #startTimeoutMs: number
  #child: ChildProcess | undefined
  #exited: Promise<void> = Promise.resolve()
  #log = ""
  #stopped = false

  constructor(binary: string, port: number, dir: string, args: readonly string[], startTimeoutMs: number) {
    this.#binary = binary
    this.port = port
    this.dir = dir
    this.#args = args
    this.#startTimeoutMs = startTimeoutMs
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  get pid(): number | undefined {
    return this.#child?.pid
  }

  get running(): boolean {
    return this.#child !== undefined
  }

  log(): string {
    return this.#log
  }

  async start(): Promise<void> {
    installExitHook()
    const child = spawn(this.#binary, [...this.#args], { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] })
    this.#child = child
    live.add(child)
    const append = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString("utf8")).slice(-20_000)
    }
    child.stdout?.on("data", append)
    child.stderr?.on("data", append)
    let exitedEarly = false
    this.#exited = new Promise((resolve) => {
      child.once("exit", () => {
        exitedEarly = true
        live.delete(child)
        if (this.#child === child) this.#child = undefined
        resolve()
      })
    })
    const deadline = Date.now() + this.#startTimeoutMs
    while (Date.now() < deadline) {
      if (exitedEarly) throw new Error(`redis-server on port ${this.port} exited at start:\n${this.#log}`)
      try {
        if ((await redisCommand(this.port, ["PING"], { timeoutMs: 500 })) === "PONG") return
      } catch {}
      await delay(20)
    }
    await this.kill()
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${this.#startTimeoutMs} ms:\n${this.#log}`)
  }

  command(...args: (string | number | Uint8Array)[]): Promise<RedisReply> {
    return redisCommand(this.port, args)
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.#child
    if (child === undefined) return
    // A paused process only acts on SIGKILL; thaw it so SIGTERM works too.
    child.kill("SIGCONT")
    child.kill(signal)
    const exited = this.#exited
    const forced = setTimeout(() => child.kill("SIGKILL"), 5_000)
    await exited
    clearTimeout(forced)
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error(`redis-server on port ${this.port} was stopped`)
    await this.kill()
    await this.start()
  }

  pause(): void {
    this.#child?.kill("SIGSTOP")
  }

  resume(): void {
    this.#child?.kill("SIGCONT")
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.kill("SIGTERM")
    rmSync(this.dir, { recursive: true, force: true })
    dirs.delete(this.dir)
  }
}

/**
 * Start a `redis-server` on a free loopback port (no persistence, its own
 * temporary directory). Resolves once it answers PING.
 */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binaries = findRedisBinaries()
  if (binaries === undefined) throw new Error("redis-server is not installed (or set REDIS_SERVER_BIN)")
  let lastError: unknown
  for (let attempt = 0; attempt < (options.port === undefined ? 5 : 1); attempt++) {
    const port = options.port ?? (await freePort({ bus: options.clusterEnabled === true }))
    const dir = mkdtempSync(join(tmpdir(), `sitecache-redis-${port}-`))
    dirs.add(dir)
    const args = [
      "--port",
      String(port),
      "--bind",
      REDIS_HOST,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
      ...(options.clusterEnabled
        ? ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, "nodes.conf"), "--cluster-node-timeout", "5000"]
        : []),
      ...(options.args ?? []),
    ]
    const server = new RedisServerProcess(binaries.server, port, dir, args, options.startTimeoutMs ?? 10_000)
    try {
      await server.start()
      return server
    } catch (error) {
      lastError = error
      await server.stop()
    }
  }
  throw lastError
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

/**
 * Start a Redis Cluster of `masters` masters (default 3, no replicas) on free
 * loopback ports with `redis-cli --cluster create`; resolves when every node
 * reports `cluster_state:ok` and knows every master.
 */
export async function startRedisCluster(options: { masters?: number; args?: readonly string[] } = {}): Promise<RedisCluster> {
  const binaries = findRedisBinaries()
  if (binaries?.cli === undefined) throw new Error("redis-cli is not installed (needed to create a cluster)")
  const masters = options.masters ?? 3
  const nodes: RedisServer[] = []
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()))
  }
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startRedisServer({ clusterEnabled: true, ...(options.args ? { args: options.args } : {}) }))
    }
    await run(
      binaries.cli,
      ["--cluster", "create", ...nodes.map((node) => `${node.host}:${node.port}`), "--cluster-replicas", "0", "--cluster-yes"],
      60_000,
    )
    const deadline = Date.now() + 30_000
    for (const node of nodes) {
      for (;;) {
        const info = await node.command("CLUSTER", "INFO")
        const known = typeof info === "string" ? /cluster_known_nodes:(\d+)/.exec(info)?.[1] : undefined
        if (typeof info === "string" && info.includes("cluster_state:ok") && Number(known) === masters) break
        if (Date.now() > deadline) throw new Error(`cluster node ${node.port} not ready: ${String(info)}`)
        await delay(50)
      }
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { nodes, seeds: nodes.map((node) => ({ host: node.host, port: node.port })), stop }
}

/**
 * A TCP server on a free loopback port that accepts connections and never
 * answers (a hung Redis, a black-holing proxy). `close()` destroys the
 * connections it holds.
 */
export async function startSilentServer(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>()
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on("error", () => {})
    socket.on("close", () => sockets.delete(socket))
    socket.resume() // read and drop whatever arrives
  })
  await new Promise<void>((resolve) => server.listen({ port: 0, host: REDIS_HOST }, resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    port,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
