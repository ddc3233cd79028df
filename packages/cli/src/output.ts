/** What a command writes to and reads from: the process's streams, or a test's. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean }
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
}

/** One command's run: its parsed options, where to print, and how. */
export interface CommandContext {
  readonly io: CliIO
  readonly json: boolean
  readonly values: Readonly<Record<string, string | boolean | undefined>>
  readonly positionals: readonly string[]
}

export function print(io: CliIO, text = ""): void {
  io.stdout.write(`${text}\n`)
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** Rows as aligned columns; columns of numbers (with an optional unit: `12`, `4.5 KiB`, `40.0%`) right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], indent = "  "): string[] {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)))
  const right = header.map((_, i) => rows.length > 0 && rows.every((row) => /^[~-]?[\d.,]+(%| ?[A-Za-z]+)?$/.test(row[i] ?? "")))
  const line = (row: readonly string[]) =>
    indent +
    row
      .map((cell, i) => (right[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd()
  return [line(header), ...rows.map(line)]
}

export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? singular : plural}`
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? "-" : `${((part / whole) * 100).toFixed(1)}%`
}

/** `2025-01-31 14:05:09` (UTC) from an ISO time or ms. */
export function shortTime(time: string | number): string {
  const date = new Date(time)
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().replace("T", " ").slice(0, 19)
}

/** First characters of a hex hash, enough to tell entries apart on screen. */
export function shortHex(hex: string | null | undefined): string {
  if (hex === null) return "(missing file)"
  if (hex === undefined) return "(none)"
  return hex.length > 12 ? `${hex.slice(0, 12)}…` : hex
}

/** `30d`, `12h`, `1d 6h`, `15m`, `10s`: a duration as people write it. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ]
  const parts: string[] = []
  let rest = ms
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
    if (parts.length === 2) break
  }
  return parts.length === 0 ? `${ms}ms` : parts.join(" ")
}
