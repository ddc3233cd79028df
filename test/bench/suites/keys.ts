/**
 * Key derivation against the bare xxhash-wasm calls that produce the same 128
 * bits from the same (already framed) bytes: the cost of framing, string
 * encoding and canonicalization. Target: ≥ 80% of the bare throughput at 8 KiB.
 */
import { BuildKey, framedBytes, KEY_SEEDS, Key, type KeyPart, key, memoKey } from "@sitecache/core"
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
  // A document's memo key as the unified adapter makes it, with a pipeline of 18 plugins: every named part hashed and
  // framed per document (before), against the parts the pipeline fixes hashed once as a BuildKey (now).
  const fixed: Record<string, KeyPart> = { stage: "process", pipeline: key("pipeline") }
  for (let i = 0; i < 18; i++) fixed[`plugin:remark-plugin-${i}@1.${i}.0`] = key("plugin", i)
  const build = new BuildKey(fixed)
  const pages = Array.from({ length: 64 }, (_, i) => sampleText(4500, i + 3))
  const perPart = await bench.measure("document key, every part per document", bench.smoke ? 2_000 : 50_000, (i) => {
    const named: Record<string, string> = {}
    const parts: Record<string, KeyPart> = { content: pages[i % 64] as string, path: `content/${i % 64}.md`, ...fixed }
    for (const [name, part] of Object.entries(parts)) named[name] = part instanceof Key ? part.hex : key(part).hex
    return key(named)
  })
  // The build key as the previous release used it: each part's hex framed as a string, the record copied from the
  // frozen hashes (V8's slow path), against memoKey (what memoize runs): part keys framed as bytes, a plain copy.
  const hexFramed = await bench.measure("document key, build key, hex framing", bench.smoke ? 2_000 : 50_000, (i) => {
    const named = { content: key(pages[i % 64] as string).hex, path: key(`content/${i % 64}.md`).hex, build: build.key.hex }
    return [key(named), Object.assign({ content: named.content, path: named.path }, build.hashes)]
  })
  const folded = await bench.measure("document key, memoKey", bench.smoke ? 2_000 : 50_000, (i) =>
    memoKey({ content: pages[i % 64] as string, path: `content/${i % 64}.md`, build }),
  )
  const contentOnly = await bench.measure("the content's hash alone", bench.smoke ? 2_000 : 50_000, (i) =>
    key(pages[i % 64] as string),
  )
  rows.push({
    label: "document key (4.4 KiB, 20 parts): memoKey",
    value: formatNs(folded.nsPerOp),
    ratio: ratio(folded, perPart),
    note: `of every part per document (${formatNs(perPart.nsPerOp)}); ${ratio(folded, hexFramed)} of the hex-framed build key (${formatNs(hexFramed.nsPerOp)}); the content's hash alone ${formatNs(contentOnly.nsPerOp)} (target ≤ 3 µs)`,
  })
  data.document = {
    perPartNs: perPart.nsPerOp,
    hexFramedNs: hexFramed.nsPerOp,
    buildKeyNs: folded.nsPerOp,
    contentNs: contentOnly.nsPerOp,
  }
  bench.table("Key derivation vs bare xxhash-wasm on the same framed bytes (target ≥ 80% at 8 KiB)", rows)
  bench.record("keys", data)
}
