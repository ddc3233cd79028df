/**
 * `RedisConnection`: one ioredis client (a server or a cluster) and the rules
 * every command of the store goes through to fail open.
 *
 * ioredis' defaults queue commands while disconnected and retry each through
 * 20 reconnections, so with Redis down a build would wait ~10 s for its first
 * command and ~37 s for each later one. A connection made here has no offline
 * queue, short connect and command timeouts, a backing-off reconnect, and an
 * `error` listener; every command goes through a circuit breaker, and a
 * command is never sent while the connection is not ready: it fails at once
 * with the connection's last error. A connection that stops answering (the
 * ready check, or commands until the breaker opens) is dropped and made again.
 */
import { errorCode } from "@sitecache/core"
import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis"
import { CircuitBreaker } from "./breaker.js"
import { DeadlineError, withDeadline } from "./deadline.js"
import { classifyRedisError, messageOf, NOT_CONNECTED, RedisFaultError } from "./errors.js"
import { DEFAULT_URL, describeUrl, type IoredisModule, loadIoredis, type ResolvedRedisOptions } from "./options.js"

export type Client = Redis | Cluster

/** What `health` reports, for tests and `sitecache inspect`. */
export interface RedisHealth {
  /** The ioredis connection status (`ready`, `connecting`, `reconnecting`, ...). */
  readonly status: string
  readonly breaker: "closed" | "open" | "half-open"
  readonly consecutiveFailures: number
  /** Commands that waited out `commandTimeout` since open (each cost the build that long). */
  readonly timeouts: number
  /** The last connection error or failed command, if any. */
  readonly lastError?: string
}

export class RedisConnection {
  readonly client: Client
  readonly isCluster: boolean
  /** Where it connects, for the store's name. */
  readonly where: string
  readonly #options: ResolvedRedisOptions
  readonly #owned: boolean
  readonly #breaker: CircuitBreaker
  readonly #listeners: [event: string, listener: (...args: unknown[]) => void][] = []
  #connectionError: unknown
  #readyTimer: NodeJS.Timeout | undefined
  #timeouts = 0
  /** The code of the current outage's first failure (see `#failed`). */
  #outage: string | undefined
  #closed = false

  /** Use `RedisConnection.open(options)`: it creates the client and waits briefly for the connection. */
  constructor(client: Client, options: ResolvedRedisOptions, owned: boolean, where: string) {
    this.client = client
    this.#options = options
    this.#owned = owned
    this.where = where
    this.isCluster = (client as { isCluster?: boolean }).isCluster === true
    this.#breaker = new CircuitBreaker({ threshold: options.breakerThreshold, cooldown: options.breakerCooldown })
    this.#listen("error", (error) => {
      this.#connectionError = error
    })
    if (this.isCluster) {
      this.#listen("node error", (error) => {
        this.#connectionError = error
      })
    }
    this.#listen("ready", () => {
      clearTimeout(this.#readyTimer)
      this.#connectionError = undefined
      this.#answered(true)
    })
    if (owned && !this.isCluster) {
      // A server that accepts the connection but never answers the ready check would hold it forever.
      this.#listen("connect", () => {
        clearTimeout(this.#readyTimer)
        this.#readyTimer = setTimeout(() => {
          // As in `withDeadline`: read what arrived while the event loop was busy before deciding.
          setImmediate(() => {
            if (this.#closed || this.client.status !== "connect") return
            this.#connectionError = new RedisFaultError(
              `connected, but no answer to the ready check within ${options.connectTimeout} ms (\`connectTimeout\`)`,
              "ETIMEDOUT",
            )
            this.client.disconnect(true)
          })
        }, options.connectTimeout)
        this.#readyTimer.unref()
      })
    }
  }

  /** Create a client for resolved `options` (or adopt `options.client`) and wait up to `connectTimeout` for it to be ready. */
  static async open(resolved: ResolvedRedisOptions, ioredis?: IoredisModule): Promise<RedisConnection> {
    if (resolved.client !== undefined) {
      const client = resolved.client as Client
      const connection = new RedisConnection(
        client,
        resolved,
        false,
        client.isCluster ? "existing cluster client" : "existing client",
      )
      if (client.status === "wait") client.connect().catch(() => {})
      await waitForConnection(client, resolved.connectTimeout)
      return connection
    }
    const { Redis, Cluster } = ioredis ?? (await loadIoredis())
    const nodeOptions: RedisOptions = {
      connectTimeout: resolved.connectTimeout,
      // No ioredis \`commandTimeout\`: \`call\` keeps its own deadline (see \`withDeadline\`).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      // A dropped connection's socket is destroyed at once, not after ioredis' 2 s for a polite close: a
      // frozen server never closes its side, and that timer would hold a finished build's process.
      disconnectTimeout: 0,
      retryStrategy: (times) => Math.min(100 * 2 ** (times - 1), 1000),
      connectionName: "sitecache",
    }
    let client: Client
    let where: string
    if (resolved.nodes !== undefined) {
      const { redisOptions, ...clusterOptions } = resolved.ioredis
      const options: ClusterOptions = {
        enableOfflineQueue: false,
        clusterRetryStrategy: (times) => Math.min(100 * 2 ** (times - 1), 1000),
        slotsRefreshTimeout: resolved.connectTimeout,
        maxRedirections: 4,
        retryDelayOnFailover: 50,
        retryDelayOnClusterDown: 50,
        retryDelayOnTryAgain: 50,
        ...(clusterOptions as ClusterOptions),
        redisOptions: { ...nodeOptions, ...(redisOptions ?? {}) },
      }
      client = new Cluster(
        resolved.nodes.map((node) => ({ ...node })),
        options,
      )
      const first = resolved.nodes[0] as { host: string; port: number }
      where = `cluster ${first.host}:${first.port}${resolved.nodes.length > 1 ? ` +${resolved.nodes.length - 1}` : ""}`
    } else {
      const url = resolved.url ?? DEFAULT_URL
      client = new Redis(url, { ...nodeOptions, ...(resolved.ioredis as RedisOptions) })
      where = describeUrl(url)
    }
    const connection = new RedisConnection(client, resolved, true, where)
    await waitForConnection(client, resolved.connectTimeout)
    // Not ready within `connectTimeout` and no error said why (a server that accepts and never answers):
    // name the cause, so that the faults of this outage carry one code from the first.
    if (client.status !== "ready" && connection.#connectionError === undefined) {
      connection.#connectionError = new RedisFaultError(
        `not ready within ${resolved.connectTimeout} ms (\`connectTimeout\`)`,
        "ETIMEDOUT",
      )
    }
    return connection
  }

  /** Connection status, circuit breaker state and the last error. */
  get health(): RedisHealth {
    const last = this.#breaker.lastError ?? this.#connectionError
    return {
      status: this.client.status,
      breaker: this.#breaker.state,
      consecutiveFailures: this.#breaker.failures,
      timeouts: this.#timeouts,
      ...(last === undefined ? {} : { lastError: messageOf(last) }),
    }
  }

  /** The masters to SCAN: every master of a cluster, or the one server. */
  masters(): Redis[] {
    return this.isCluster ? (this.client as Cluster).nodes("master") : [this.client as Redis]
  }

  /** Run one command (or pipeline) through the circuit breaker, within `commandTimeout`; any failure is a `RedisFaultError`. */
  async call<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RedisFaultError("the store is closed", "ECLOSED")
    if (this.#breaker.admit() === false) throw this.#circuitOpen()
    if (this.client.status !== "ready") throw this.#failed(this.#notConnected())
    try {
      const result = await withDeadline(operation(), this.#options.commandTimeout)
      this.#answered()
      return result
    } catch (error) {
      const fault = classifyRedisError(error, {
        ready: this.client.status === "ready",
        notConnected: (cause) => this.#notConnected(cause),
      })
      if (fault.replied) {
        this.#answered()
        throw fault
      }
      if (error instanceof DeadlineError) {
        this.#timeouts++
        this.#dropHungConnection()
      }
      throw this.#failed(fault)
    }
  }

  /**
   * Close the connection this store opened, so the process can exit at once.
   * No `QUIT`: every command of this store has settled by now, and a frozen
   * server would hold `QUIT` (and the build's process) for a command timeout.
   * An adopted `client` is left open; only this connection's listeners are removed.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#readyTimer)
    if (this.#owned) this.client.disconnect()
    // Keep swallowing errors of an owned client that is shutting down; give an adopted one back as it was.
    if (!this.#owned) for (const [event, listener] of this.#listeners) this.client.off(event, listener)
  }

  #listen(event: string, listener: (...args: unknown[]) => void): void {
    this.client.on(event, listener)
    this.#listeners.push([event, listener])
  }

  /**
   * Redis answered (a reply, an error reply, or the connection became ready).
   * On one server, that ends any outage; on a cluster, one master's outage
   * fails only its slots while the others answer, so only a reconnection
   * (`ready`) ends it.
   */
  #answered(reconnected = false): void {
    this.#breaker.success()
    if (reconnected || !this.isCluster) this.#outage = undefined
  }

  /**
   * Count a failure to reach Redis. Every failure of one outage (from the
   * first until Redis answers again) carries the first one's code: a frozen
   * or killed server fails commands by timeouts, closed and refused
   * connections in turn, and the cache warns once per code, so one outage
   * gives one warning. The message keeps what each one really was.
   */
  #failed(fault: RedisFaultError): RedisFaultError {
    this.#outage ??= fault.code
    const failure =
      fault.code === this.#outage
        ? fault
        : new RedisFaultError(fault.message, this.#outage, { cause: fault.cause, circuitOpen: fault.circuitOpen })
    this.#breaker.failure(failure)
    return failure
  }

  /**
   * A command timed out on a connection that looks ready: the server hangs or
   * the network dropped the connection without a reset. Reconnect rather than
   * wait for TCP to notice (minutes), at the first timeout: every command
   * sent on that connection would wait out its own timeout, while on a
   * connection that is not ready they fail at once and open the breaker, so
   * a frozen server costs one command timeout, not one per command in flight
   * or per failure the breaker needs. ioredis' own `socketTimeout` is not
   * used: its timer outlives the socket it watches, and fires on the next one.
   */
  #dropHungConnection(): void {
    if (!this.#owned || this.client.status !== "ready") return
    this.#connectionError = new RedisFaultError(`no reply within ${this.#options.commandTimeout} ms: reconnecting`, "ETIMEDOUT")
    this.client.disconnect(true)
  }

  #notConnected(cause?: unknown): RedisFaultError {
    const last = this.#connectionError
    const code = errorCode(last)
    const reason = last !== undefined ? messageOf(last) : cause !== undefined ? messageOf(cause) : `status ${this.client.status}`
    return new RedisFaultError(`not connected (${reason})`, code ?? NOT_CONNECTED, {
      cause: cause ?? last,
    })
  }

  #circuitOpen(): RedisFaultError {
    const last = this.#breaker.lastError
    const code = last instanceof RedisFaultError ? last.code : "ECIRCUITOPEN"
    const seconds = (this.#breaker.retryIn / 1000).toFixed(1)
    return new RedisFaultError(
      `skipped after ${this.#breaker.threshold} consecutive failures, next try in ${seconds} s (last: ${messageOf(last)})`,
      code,
      { cause: last, circuitOpen: true },
    )
  }
}

/** Wait until `client` is ready, fails to connect once, or `timeoutMs` passes; never rejects. */
function waitForConnection(client: Client, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      client.off("ready", done)
      client.off("error", done)
      client.off("end", done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    client.once("ready", done)
    client.once("error", done)
    client.once("end", done)
  })
}
