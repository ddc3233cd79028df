/**
 * Reading and writing streamed entries (their format: stream.ts) without
 * ever holding a whole value in memory.
 */
import { randomUUID } from "node:crypto"
import type { FileHandle } from "node:fs/promises"
import { Readable, Writable } from "node:stream"
import { CorruptEntryError, type EntryMeta } from "@sitecache/core"
import { type EntryFiles, streamExpiry } from "./entry-files.js"
import { isMissing } from "./file-system.js"
import { describeNonFile, isNotAFile } from "./guard.js"
import { READ_FLAGS, TEMP_PREFIX } from "./layout.js"
import {
  decodeStreamHeader,
  encodeStreamHeader,
  STREAM_BLOCK,
  STREAM_HEADER,
  STREAM_TRAILER,
  StreamDigest,
  streamFileSize,
} from "./stream.js"

export interface OpenForReadOptions {
  /**
   * Check every block of the entry before handing out the first byte (one
   * extra sequential read, usually from the page cache), so that a damaged
   * entry is a miss and never a stream that fails halfway. Default `true`.
   * With `false`, each block is still checked before it is handed out, and
   * a damaged block errors the stream.
   */
  readonly verifyFirst?: boolean
}

export interface OpenForWriteOptions {
  /** Accept and discard everything (a read-only cache): `added` resolves `false`. */
  readonly discard?: boolean
  /**
   * Called on an operational fault (disk full, permission lost) while
   * writing. Return an error to fail the stream with it, or `undefined` to
   * drop the write quietly: the stream then accepts and discards the rest,
   * and `added` resolves `false`. Default: the stream fails with the fault.
   */
  readonly onFault?: (error: unknown) => Error | undefined
}

/** A stream that stores what is written to it as one entry when it ends. */
export interface EntryWriteStream extends Writable {
  /**
   * Resolves once the stream has finished: `true` when the entry was stored,
   * `false` when a live entry already existed (it is kept) or the write was
   * dropped. Rejects when the stream failed.
   */
  readonly added: Promise<boolean>
}

/**
 * A stream of a streamed entry's bytes, `undefined` when there is none or it
 * has expired. Throws `CorruptEntryError` for a damaged entry (checked in
 * full first, unless `verifyFirst` is false) and any other error for an
 * operational fault. Consume or destroy the stream: it holds the file open.
 */
export async function openStreamForRead(
  files: EntryFiles,
  rel: string,
  now: number,
  options: OpenForReadOptions,
  onRead: () => void,
): Promise<Readable | undefined> {
  const directories = files.guard.check(rel)
  if (directories === "missing") return undefined
  const notAFile = () =>
    new CorruptEntryError(
      `${describeNonFile(files.fs.lstatSync(files.base + rel, { throwIfNoEntry: false }))} in place of a streamed entry (never followed)`,
    )
  if (directories === "linked") throw new CorruptEntryError("a link in place of a cache directory (never followed)")
  let handle: FileHandle
  try {
    handle = await files.fs.promises.open(files.base + rel, READ_FLAGS)
  } catch (error) {
    if (isMissing(error)) return undefined
    if (isNotAFile(error)) throw notAFile()
    throw error
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw notAFile()
    const { size } = stat
    const head = Buffer.alloc(STREAM_HEADER)
    if (size < STREAM_HEADER + STREAM_TRAILER) throw new CorruptEntryError(`stream of ${size} bytes is shorter than its framing`)
    await readExactly(handle, head, 0)
    const header = decodeStreamHeader(head)
    const trailer = Buffer.alloc(STREAM_TRAILER)
    await readExactly(handle, trailer, size - STREAM_TRAILER)
    const length = Number(trailer.readBigUInt64LE(0))
    if (streamFileSize(length) !== size) {
      throw new CorruptEntryError(`stream of ${size} bytes, expected ${streamFileSize(length)} (truncated or padded)`)
    }
    if (header.expires !== 0 && header.expires <= now) {
      await handle.close()
      return undefined
    }
    if (options.verifyFirst ?? true) await verifyStream(handle, head, trailer, length)
    onRead()
    return blockReader(handle, head, trailer, length)
  } catch (error) {
    await handle.close().catch(() => {})
    throw error
  }
}

/**
 * A stream whose bytes become a streamed entry when it ends: written to a
 * temporary file block by block (one block of memory), committed like
 * `add` (an existing live entry is kept). See `EntryWriteStream.added`.
 */
export function openStreamForWrite(
  files: EntryFiles,
  rel: string,
  meta: EntryMeta,
  now: number,
  options: OpenForWriteOptions,
  onWritten: (size: number) => void,
): EntryWriteStream {
  const path = files.base + rel
  if (options.discard !== true) files.enterable(rel)
  const directory = path.slice(0, path.lastIndexOf("/"))
  const temp = `${directory}/${TEMP_PREFIX}${randomUUID()}`
  const header = encodeStreamHeader(meta)
  const digest = new StreamDigest(header)
  const block = Buffer.allocUnsafe(STREAM_BLOCK)
  let handle: FileHandle | undefined
  let filled = 0
  let length = 0
  let position = 0
  /** A live entry exists, or a fault was dropped: accept and discard. */
  let sink = options.discard === true
  let committed = false
  let settle!: (added: boolean) => void
  let fail!: (error: unknown) => void
  const added = new Promise<boolean>((resolve, reject) => {
    settle = resolve
    fail = reject
  })
  added.catch(() => {})

  const writeAt = async (buffers: Buffer[]): Promise<void> => {
    for (const buffer of buffers) {
      await writeExactly(handle as FileHandle, buffer, position)
      position += buffer.length
    }
  }
  const flushBlock = async (): Promise<void> => {
    if (filled === 0) return
    const data = block.subarray(0, filled)
    await writeAt([data, digest.block(data)])
    filled = 0
  }
  const discard = async (): Promise<void> => {
    const open = handle
    handle = undefined
    if (open !== undefined) await open.close().catch(() => {})
    files.removeQuietly(temp)
  }
  /** Run one step; on a fault, either drop the write (sink) or fail the stream. */
  const step = (work: () => Promise<void>, callback: (error?: Error | null) => void): void => {
    if (sink) {
      callback()
      return
    }
    work().then(
      () => callback(),
      async (error: unknown) => {
        await discard()
        const failure = options.onFault ? options.onFault(error) : (error as Error)
        if (failure === undefined) {
          sink = true
          callback()
        } else callback(failure)
      },
    )
  }

  const stream = new Writable({
    highWaterMark: STREAM_BLOCK,
    construct: (callback) =>
      step(async () => {
        if (files.live(path, now, streamExpiry)) {
          sink = true
          return
        }
        handle = await files.openTempHandle(temp, directory)
        await writeAt([header])
      }, callback),
    write: (chunk: Buffer, _encoding, callback) =>
      step(async () => {
        let offset = 0
        while (offset < chunk.length) {
          const n = Math.min(chunk.length - offset, STREAM_BLOCK - filled)
          chunk.copy(block, filled, offset, offset + n)
          filled += n
          offset += n
          length += n
          if (filled === STREAM_BLOCK) await flushBlock()
        }
      }, callback),
    final: (callback) =>
      step(async () => {
        await flushBlock()
        await writeAt([digest.trailer(length)])
        const open = handle as FileHandle
        if (files.fsync) await open.sync()
        handle = undefined
        await open.close()
        committed = true
        const wasAdded = files.commit(temp, path, now, streamExpiry)
        if (wasAdded) onWritten(position)
        settle(wasAdded)
      }, callback),
    destroy: (error, callback) => {
      const cleanup = committed ? Promise.resolve() : discard()
      cleanup.then(() => {
        if (error) fail(error)
        else settle(false)
        callback(error)
      })
    },
  })
  return Object.defineProperty(stream, "added", { value: added, enumerable: true }) as EntryWriteStream
}

async function readExactly(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0
  while (offset < buffer.length) {
    const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, position + offset)
    if (bytesRead === 0) throw new CorruptEntryError("stream ends early")
    offset += bytesRead
  }
}

async function writeExactly(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, position + offset)
    if (bytesWritten <= 0) throw Object.assign(new Error("short write"), { code: "EIO" })
    offset += bytesWritten
  }
}

/** Check every block and the trailer of a streamed entry, with one block of memory. */
async function verifyStream(handle: FileHandle, head: Buffer, trailer: Buffer, length: number): Promise<void> {
  const digest = new StreamDigest(head)
  const buffer = Buffer.allocUnsafe(STREAM_BLOCK + 8)
  let position = STREAM_HEADER
  for (let remaining = length; remaining > 0; ) {
    const n = Math.min(STREAM_BLOCK, remaining)
    const block = buffer.subarray(0, n + 8)
    await readExactly(handle, block, position)
    if (!digest.block(block.subarray(0, n)).equals(block.subarray(n))) {
      throw new CorruptEntryError(`stream block at byte ${position} fails its checksum`)
    }
    position += n + 8
    remaining -= n
  }
  if (!digest.trailer(length).equals(trailer)) throw new CorruptEntryError("stream checksum mismatch")
}

/** A readable that hands out each block only after it passed its checksum. */
function blockReader(handle: FileHandle, head: Buffer, trailer: Buffer, length: number): Readable {
  const digest = new StreamDigest(head)
  let position = STREAM_HEADER
  let remaining = length
  const stream: Readable = new Readable({
    highWaterMark: STREAM_BLOCK,
    read() {
      next().catch((error: unknown) => stream.destroy(error as Error))
    },
    destroy(error, callback) {
      handle.close().then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? (closeError as Error)),
      )
    },
  })
  async function next(): Promise<void> {
    if (remaining === 0) {
      if (!digest.trailer(length).equals(trailer)) throw new CorruptEntryError("stream checksum mismatch")
      stream.push(null)
      return
    }
    const n = Math.min(STREAM_BLOCK, remaining)
    const block = Buffer.allocUnsafe(n + 8)
    await readExactly(handle, block, position)
    const data = block.subarray(0, n)
    if (!digest.block(data).equals(block.subarray(n)))
      throw new CorruptEntryError(`stream block at byte ${position} fails its checksum`)
    position += n + 8
    remaining -= n
    stream.push(data)
  }
  return stream
}
