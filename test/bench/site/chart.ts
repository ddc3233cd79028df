/**
 * The suite's chart, written as SVG text (no chart library): on top, bars of
 * the build time of every configuration on the real corpus (cold and warm,
 * log scale, since an uncached build and a warm one differ by orders of
 * magnitude); below, lines of the cost per document against the size of the
 * synthetic site, warm and cold, one line per backend.
 */
import { formatMs } from "@sitecache/core"

export interface ChartBar {
  readonly label: string
  readonly kind: "uncached" | "floor" | "sitecache" | "peer"
  /** ms; uncached and floor have only `cold` (their one build time). */
  readonly cold?: number
  readonly warm?: number
}

export interface ChartSeries {
  readonly label: string
  /** µs per document at each size (`null`: not measured). */
  readonly warm: readonly (number | null)[]
  readonly cold: readonly (number | null)[]
}

export interface ChartData {
  readonly title: string
  readonly subtitle: string
  readonly bars: readonly ChartBar[]
  readonly sizes: readonly number[]
  readonly series: readonly ChartSeries[]
}

const WIDTH = 960
const FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
const FLOOR_COLOR = "#111827"
const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563"]
const KIND_COLORS: Record<ChartBar["kind"], string> = {
  uncached: "#6b7280",
  floor: "#111827",
  sitecache: "#2563eb",
  peer: "#d97706",
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"))
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`
}

/** An axis tick: a power of ten, without decimals. */
function formatTick(ms: number): string {
  if (ms >= 1000) return `${Math.round(ms / 1000)} s`
  if (ms >= 1) return `${Math.round(ms)} ms`
  return `${Math.round(ms * 1000)} µs`
}

function formatMicros(us: number): string {
  return us >= 1000 ? `${+(us / 1000).toFixed(2)} ms` : `${+us.toFixed(1)} µs`
}

function formatCount(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n)
}

/** Round numbers for a linear axis from 0 to at least `max`. */
function linearTicks(max: number): number[] {
  const raw = max / 4
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw
  const ticks: number[] = []
  for (let v = 0; v <= max + step * 0.001; v += step) ticks.push(v)
  if ((ticks[ticks.length - 1] as number) < max) ticks.push((ticks[ticks.length - 1] as number) + step)
  return ticks
}

function barsPanel(bars: readonly ChartBar[], top: number): { svg: string; height: number } {
  const labelWidth = 230
  const left = 24 + labelWidth
  const right = WIDTH - 90
  const rowHeight = 26
  const values = bars.flatMap((bar) => [bar.cold, bar.warm]).filter((v): v is number => v !== undefined && v > 0)
  const min = 10 ** Math.floor(Math.log10(Math.min(...values)))
  const max = 10 ** Math.ceil(Math.log10(Math.max(...values)))
  const x = (ms: number) =>
    left + ((Math.log10(Math.max(ms, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * (right - left)
  const parts: string[] = []
  const axisTop = top + 30
  const height = 30 + bars.length * rowHeight + 40
  parts.push(
    text(
      24,
      top + 14,
      "Build time of the real corpus (log scale): cold = every document misses, warm = every document hits",
      `font-size="14" font-weight="600"`,
    ),
  )
  for (let tick = min; tick <= max * 1.0001; tick *= 10) {
    const tx = x(tick)
    parts.push(
      `<line x1="${tx.toFixed(1)}" y1="${axisTop}" x2="${tx.toFixed(1)}" y2="${axisTop + bars.length * rowHeight}" stroke="#e5e7eb"/>`,
    )
    parts.push(
      text(tx, axisTop + bars.length * rowHeight + 16, formatTick(tick), `font-size="11" fill="#6b7280" text-anchor="middle"`),
    )
  }
  bars.forEach((bar, i) => {
    const y = axisTop + i * rowHeight
    const color = KIND_COLORS[bar.kind]
    parts.push(text(left - 8, y + 17, bar.label, `font-size="12" text-anchor="end" fill="#111827"`))
    const single = bar.warm === undefined
    if (bar.cold !== undefined) {
      const h = single ? 18 : 9
      parts.push(
        `<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(bar.cold) - left).toFixed(1)}" height="${h}" fill="${color}" fill-opacity="${single ? 0.85 : 0.35}"><title>${escapeXml(`${bar.label} ${single ? "" : "cold "}${formatMs(bar.cold)}`)}</title></rect>`,
      )
      parts.push(
        text(x(bar.cold) + 4, y + 4 + h - 1, `${single ? "" : "cold "}${formatMs(bar.cold)}`, `font-size="10" fill="#374151"`),
      )
    }
    if (bar.warm !== undefined) {
      parts.push(
        `<rect x="${left}" y="${y + 13}" width="${Math.max(1, x(bar.warm) - left).toFixed(1)}" height="9" fill="${color}"><title>${escapeXml(`${bar.label} warm ${formatMs(bar.warm)}`)}</title></rect>`,
      )
      parts.push(text(x(bar.warm) + 4, y + 21, `warm ${formatMs(bar.warm)}`, `font-size="10" fill="#111827"`))
    }
  })
  const legendY = axisTop + bars.length * rowHeight + 32
  const legend: [string, string][] = [
    ["uncached", KIND_COLORS.uncached],
    ["floor: read + write, no render", KIND_COLORS.floor],
    ["sitecache", KIND_COLORS.sitecache],
    ["peer stores", KIND_COLORS.peer],
  ]
  let lx = left
  for (const [name, color] of legend) {
    parts.push(`<rect x="${lx}" y="${legendY - 9}" width="10" height="10" fill="${color}"/>`)
    parts.push(text(lx + 14, legendY, name, `font-size="11" fill="#374151"`))
    lx += 40 + name.length * 6
  }
  parts.push(text(lx, legendY, "light: cold, dark: warm", `font-size="11" fill="#6b7280"`))
  return { svg: parts.join("\n"), height: height + 10 }
}

function linePanel(
  title: string,
  sizes: readonly number[],
  series: readonly ChartSeries[],
  pick: (s: ChartSeries) => readonly (number | null)[],
  box: { left: number; top: number; width: number; height: number },
): string {
  const parts: string[] = []
  const plotLeft = box.left + 50
  const plotRight = box.left + box.width - 10
  const plotTop = box.top + 26
  const plotBottom = box.top + box.height - 30
  parts.push(text(box.left, box.top + 14, title, `font-size="13" font-weight="600"`))
  const all = series.flatMap((s) => pick(s)).filter((v): v is number => v !== null)
  const ticks = linearTicks(Math.max(1, ...all))
  const yMax = ticks[ticks.length - 1] as number
  const logMin = Math.log10(Math.min(...sizes))
  const logMax = Math.log10(Math.max(...sizes))
  const x = (size: number) =>
    logMax === logMin
      ? (plotLeft + plotRight) / 2
      : plotLeft + ((Math.log10(size) - logMin) / (logMax - logMin)) * (plotRight - plotLeft)
  const y = (us: number) => plotBottom - (us / yMax) * (plotBottom - plotTop)
  for (const tick of ticks) {
    parts.push(
      `<line x1="${plotLeft}" y1="${y(tick).toFixed(1)}" x2="${plotRight}" y2="${y(tick).toFixed(1)}" stroke="#e5e7eb"/>`,
    )
    parts.push(text(plotLeft - 6, y(tick) + 4, formatMicros(tick), `font-size="10" fill="#6b7280" text-anchor="end"`))
  }
  for (const size of sizes) {
    parts.push(text(x(size), plotBottom + 16, `${formatCount(size)} docs`, `font-size="10" fill="#6b7280" text-anchor="middle"`))
  }
  series.forEach((s, i) => {
    const color = seriesColor(s, i)
    const points = pick(s)
      .map((value, j) => (value === null ? undefined : ([x(sizes[j] as number), y(value)] as const)))
      .filter((p): p is readonly [number, number] => p !== undefined)
    const dash = s.label.startsWith("floor") ? ` stroke-dasharray="4 3"` : ""
    if (points.length > 1) {
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")}"/>`,
      )
    }
    for (const [px, py] of points) parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"/>`)
  })
  return parts.join("\n")
}

function seriesColor(series: ChartSeries, index: number): string {
  return series.label.startsWith("floor") ? FLOOR_COLOR : (PALETTE[index % PALETTE.length] as string)
}

export function renderChart(data: ChartData): string {
  const parts: string[] = []
  parts.push(text(24, 28, data.title, `font-size="18" font-weight="700" fill="#111827"`))
  parts.push(text(24, 48, data.subtitle, `font-size="12" fill="#4b5563"`))
  const bars = barsPanel(data.bars, 64)
  parts.push(bars.svg)
  let height = 64 + bars.height
  if (data.sizes.length > 0 && data.series.length > 0) {
    const top = height + 8
    parts.push(
      text(
        24,
        top + 12,
        "Cost per document as the synthetic site grows (cheap render: what is left is the cache's cost)",
        `font-size="14" font-weight="600"`,
      ),
    )
    const panelWidth = (WIDTH - 48 - 24) / 2
    parts.push(
      linePanel("warm (every document hits)", data.sizes, data.series, (s) => s.warm, {
        left: 24,
        top: top + 24,
        width: panelWidth,
        height: 240,
      }),
    )
    parts.push(
      linePanel("cold (every document misses)", data.sizes, data.series, (s) => s.cold, {
        left: 24 + panelWidth + 24,
        top: top + 24,
        width: panelWidth,
        height: 240,
      }),
    )
    let lx = 24
    let ly = top + 24 + 240 + 14
    data.series.forEach((s, i) => {
      const width = 30 + s.label.length * 6.2
      if (lx + width > WIDTH - 24) {
        lx = 24
        ly += 18
      }
      parts.push(`<rect x="${lx}" y="${ly - 9}" width="14" height="4" fill="${seriesColor(s, i)}"/>`)
      parts.push(text(lx + 18, ly, s.label, `font-size="11" fill="#374151"`))
      lx += width
    })
    height = ly + 16
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${Math.ceil(height)}" viewBox="0 0 ${WIDTH} ${Math.ceil(height)}" style="${FONT}" role="img">\n<title>${escapeXml(data.title)}</title>\n<rect width="100%" height="100%" fill="#ffffff"/>\n${parts.join("\n")}\n</svg>\n`
}
