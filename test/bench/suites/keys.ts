/**
 * Key derivation against the bare xxhash-wasm calls that produce the same 128
 * bits from the same (already framed) bytes: the cost of framing, string
 * encoding and canonicalization. Target: ≥ 80% of the bare throughput at 8 KiB.
 */
import { framedBytes, KEY_SEEDS, key } from "@sitecache/core"
import xxhash from "xxhash-wasm"
import { sampleText } from "../corpus-text.js"
import { type Bench, formatNs, ratio } from "../harness.js"

export default async function keys(bench: Bench): Promise<void> {
  const hasher = await xxhash()
  const rows = []
  const data: Record<string, unknown> = {}
  for (const [label, size] of [
    ["1 KiB", 1024],
    ["8 KiB", 8192],
    ["1 MiB", 1024 * 1024],
  ] as const) {
    const ops = Math.max(50, Math.floor((bench.smoke ? 2e6 : 2e7) / size))
    const text = sampleText(size)
    const bytes = new TextEncoder().encode(text)
    for (const [kind, part] of [
      ["string", text],
      ["bytes", bytes],
    ] as const) {
      const framed = framedBytes(part)
      const bare = await bench.measure(`bare ${kind} ${label}`, ops, () => {
        hasher.h64Raw(framed, KEY_SEEDS.high)
        hasher.h64Raw(framed, KEY_SEEDS.low)
      })
      const ours = await bench.measure(`key() ${kind} ${label}`, ops, () => key(part))
      const throughput = bare.nsPerOp / ours.nsPerOp
      rows.push({
        label: `key(${kind}) ${label}`,
        value: formatNs(ours.nsPerOp),
        ratio: `${(throughput * 100).toFixed(0)}%`,
        note: `of bare xxhash-wasm throughput (bare ${formatNs(bare.nsPerOp)}, ${ratio(ours, bare)} time)`,
      })
      data[`${kind} ${label}`] = { keyNs: ours.nsPerOp, bareNs: bare.nsPerOp, throughputShare: throughput }
    }
  }
  const object = { remark: { gfm: true, footnotes: ["a", "b"] }, rehype: { allowDangerousHtml: false }, version: "1.2.3" }
  const parts = await bench.measure("key(path, content, options)", bench.smoke ? 20_000 : 200_000, () =>
    key("content/posts/hello.md", "short source", object),
  )
  rows.push({ label: "key(path, 12 B, options object)", value: formatNs(parts.nsPerOp) })
  bench.table("Key derivation vs bare xxhash-wasm on the same framed bytes (target ≥ 80% at 8 KiB)", rows)
  bench.record("keys", data)
}
