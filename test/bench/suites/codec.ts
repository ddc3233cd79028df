/**
 * The default codec, chosen by measurement: `v8.serialize` against msgpackr
 * with its structured-clone extension, on realistic values (a rendered page's
 * HTML plus its `data` object, with a Date, a Map and a Set).
 */
import { jsonOrV8Codec } from "@sitecache/core"
import { Packr } from "msgpackr"
import { sampleText } from "../corpus-text.js"
import { type Bench, formatNs, ratio } from "../harness.js"

function page(i: number, size: number) {
  return {
    value: `<article><h1>Page ${i}</h1>${sampleText(size, i + 7)}</article>`,
    data: {
      matter: { title: `Page ${i}`, date: new Date(1_700_000_000_000 + i), tags: new Set(["docs", "cache"]), draft: false },
      toc: Array.from({ length: 8 }, (_, j) => ({ depth: 2, id: `section-${j}`, text: `Section ${j}` })),
      refs: new Map([["footer", "_includes/footer.md"]]),
    },
    messages: [{ reason: "Unexpected trailing space", line: 3, column: 9, source: "lint", fatal: false }],
  }
}

export default async function codec(bench: Bench): Promise<void> {
  const packr = new Packr({ structuredClone: true, useRecords: false, moreTypes: true })
  const rows = []
  const data: Record<string, unknown> = {}
  for (const [label, size] of [
    ["2 KiB page", 2048],
    ["20 KiB page", 20_480],
    ["200 KiB page", 204_800],
  ] as const) {
    const count = bench.smoke ? 200 : Math.max(500, Math.floor(4e7 / size))
    const values = Array.from({ length: 64 }, (_, i) => page(i, size))
    const v8Bytes = values.map((v) => jsonOrV8Codec.encode(v))
    const mpBytes = values.map((v) => packr.pack(v))
    // Both must round-trip the value before their speed matters.
    const back = packr.unpack(mpBytes[0] as Uint8Array) as ReturnType<typeof page>
    if (!(back.data.matter.date instanceof Date) || !(back.data.matter.tags instanceof Set))
      throw new Error("msgpackr lost a type")
    const v8Encode = await bench.measure(`json+v8 encode ${label}`, count, (i) => jsonOrV8Codec.encode(values[i % 64]))
    const mpEncode = await bench.measure(`msgpackr encode ${label}`, count, (i) => packr.pack(values[i % 64]))
    const v8Decode = await bench.measure(`json+v8 decode ${label}`, count, (i) =>
      jsonOrV8Codec.decode(v8Bytes[i % 64] as Uint8Array),
    )
    const mpDecode = await bench.measure(`msgpackr decode ${label}`, count, (i) => packr.unpack(mpBytes[i % 64] as Uint8Array))
    const v8Size = v8Bytes.reduce((s, b) => s + b.length, 0) / 64
    const mpSize = mpBytes.reduce((s, b) => s + b.length, 0) / 64
    rows.push(
      {
        label: `${label}: json+v8 decode`,
        value: formatNs(v8Decode.nsPerOp),
        ratio: ratio(v8Decode, mpDecode),
        note: `vs msgpackr ${formatNs(mpDecode.nsPerOp)}`,
      },
      {
        label: `${label}: json+v8 encode`,
        value: formatNs(v8Encode.nsPerOp),
        ratio: ratio(v8Encode, mpEncode),
        note: `vs msgpackr ${formatNs(mpEncode.nsPerOp)}`,
      },
      {
        label: `${label}: json+v8 bytes`,
        value: `${Math.round(v8Size)}`,
        ratio: ratio(v8Size, mpSize),
        note: `vs msgpackr ${Math.round(mpSize)}`,
      },
    )
    data[label] = {
      v8Encode: v8Encode.nsPerOp,
      mpEncode: mpEncode.nsPerOp,
      v8Decode: v8Decode.nsPerOp,
      mpDecode: mpDecode.nsPerOp,
      v8Size,
      mpSize,
    }
  }
  bench.table("Codec: jsonOrV8Codec vs msgpackr (structured clone), ratio < 1 means jsonOrV8Codec is faster/smaller", rows)
  bench.record("codec", data)
}
