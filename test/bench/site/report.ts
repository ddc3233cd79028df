/** Text tables for the terminal and for Markdown, from rows of cells. */

export { formatBytes, formatMs } from "@sitecache/core"

export interface Table {
  readonly title: string
  readonly head: readonly string[]
  readonly rows: readonly (readonly string[])[]
  /** Lines printed under the table. */
  readonly notes?: readonly string[]
  /** Left-align every column (text tables); default: first column left, the others right (figures). */
  readonly alignLeft?: boolean
}

/** Columns after the first are right-aligned. */
export function printTable(table: Table): void {
  const widths = table.head.map((cell, i) => Math.max(cell.length, ...table.rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        i === 0 || table.alignLeft === true ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number),
      )
      .join("  ")
      .trimEnd()
  console.log(`\n${table.title}`)
  console.log(`  ${line(table.head)}`)
  for (const row of table.rows) console.log(`  ${line(row)}`)
  for (const note of table.notes ?? []) console.log(`  ${note}`)
}

export function markdownTable(table: Table): string {
  const row = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, "\\|")).join(" | ")} |`
  return [
    `**${table.title}**`,
    "",
    row(table.head),
    `|${table.head.map((_, i) => (i === 0 || table.alignLeft === true ? " --- " : " ---: ")).join("|")}|`,
    ...table.rows.map(row),
    ...(table.notes && table.notes.length > 0 ? ["", ...table.notes.map((note) => `${note}  `)] : []),
    "",
  ].join("\n")
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return "—"
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(us >= 100 ? 0 : 1)} µs`
}

export function formatRatio(x: number): string {
  if (!Number.isFinite(x)) return "—"
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`
}

export function passOrMiss(ok: boolean): string {
  return ok ? "PASS" : "MISS"
}
