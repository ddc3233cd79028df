/**
 * What text costs in the cache: the current codec (`jsonOrV8Codec`, long
 * strings stored apart in their smallest exact encoding) against the codec
 * before it (`site/previous-codec.ts`: v8's encoding, two bytes a character
 * for any string with one character past U+00FF), on three corpora:
 *
 * - the real corpus (`corpus.ts`), as it is;
 * - the same documents through retext-smartypants (curly quotes, dashes,
 *   ellipses: typographic prose, as a site with smartypants renders it);
 * - a CJK set: deterministic documents of Chinese and Japanese text.
 *
 * Each corpus is rendered by the cheap processor (`site/pipeline.ts`: what
 * remains is the cache) through `cached()` on SQLite: a cold build into an
 * empty cache, then warm builds, each opening and closing the cache. Per
 * corpus and codec: cache size (the stored entries' bytes), cold and warm
 * time, and each entry's size against the smaller of the UTF-8 and UTF-16
 * encodings of its strings.
 */
import { createRequire } from "node:module"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { createSqliteCache } from "@sitecache/backend-sqlite"
import { BuildStats, type Codec, jsonOrV8Codec, Key, memoize, type StoreCache } from "@sitecache/core"
import { cached, cacheStatus } from "@sitecache/unified"
import { gatherCorpus } from "../corpus.js"
import { type Bench, median, type Row } from "../harness.js"
import { cheapProcessor } from "../site/pipeline.js"
import { previousCodec } from "../site/previous-codec.js"

interface Document {
  readonly path: string
  readonly text: string
}

const requireFromCorpus = createRequire(join(import.meta.dirname, "..", "corpus-packages", "package.json"))

async function importFromCorpus<T>(name: string): Promise<T> {
  return (await import(pathToFileURL(requireFromCorpus.resolve(name)).href)) as T
}

/** The documents through retext-smartypants, as prose (code blocks included: what matters is how much text has curly quotes). */
async function typographic(documents: readonly Document[]): Promise<Document[]> {
  const { unified } = await import(
    pathToFileURL(createRequire(requireFromCorpus.resolve("remark-retext")).resolve("unified")).href
  )
  const english = (await importFromCorpus<{ default: unknown }>("retext-english")).default
  const smartypants = (await importFromCorpus<{ default: unknown }>("retext-smartypants")).default
  const nlcst = await importFromCorpus<{ toString(tree: unknown): string }>("nlcst-to-string")
  const processor = unified().use(english).use(smartypants)
  return documents.map((document) => {
    const tree = processor.runSync(processor.parse(document.text))
    return { path: document.path, text: nlcst.toString(tree) }
  })
}

const CJK_WORDS = (
  "缓存 构建 网站 静态 渲染 页面 文档 布局 索引 内容 版本 插件 管道 输出 文件 路径 标题 日期 标签 主题 " +
  "キャッシュ ビルド サイト 静的 レンダリング ページ 文書 レイアウト 索引 内容 バージョン プラグイン 出力 ファイル 見出し"
).split(" ")

/** `count` deterministic CJK documents of 0.5 to ~8 KiB: a title, headings and paragraphs. */
function cjkDocuments(count: number): Document[] {
  let state = 7
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) >>> 0
    return state / 4_294_967_296
  }
  const sentence = (words: number) => {
    let text = ""
    for (let i = 0; i < words; i++) text += CJK_WORDS[Math.floor(next() * CJK_WORDS.length)]
    return `${text}。`
  }
  return Array.from({ length: count }, (_, i) => {
    const blocks = [`---\ntitle: ${sentence(4)}\n---`, `# ${sentence(5)}`]
    const paragraphs = 1 + Math.floor(next() * 12)
    for (let p = 0; p < paragraphs; p++) {
      if (p % 3 === 2) blocks.push(`## ${sentence(4)}`)
      blocks.push(Array.from({ length: 2 + Math.floor(next() * 6) }, () => sentence(6 + Math.floor(next() * 12))).join(""))
    }
    return { path: `cjk/${String(i).padStart(4, "0")}.md`, text: `${blocks.join("\n\n")}\n` }
  })
}

/** Bytes of the smaller of the UTF-8 and UTF-16 encodings of every string in `value`. */
function textBytes(value: unknown): number {
  if (typeof value === "string") return Math.min(Buffer.byteLength(value, "utf8"), value.length * 2)
  if (value === null || typeof value !== "object") return 0
  // The unified adapter keeps a page's text as its UTF-8 bytes, marked `text: true`.
  const record = value as { value?: unknown; text?: unknown }
  if (record.text === true && record.value instanceof Uint8Array)
    return textBytes(Buffer.from(record.value).toString("utf8")) + textBytes({ ...record, value: undefined })
  let sum = 0
  for (const item of Object.values(value)) sum += textBytes(item)
  return sum
}

interface Run {
  readonly coldMs: number
  readonly warmMs: number
  readonly bytes: number
  /** Largest stored size ÷ smaller encoding of its strings, over entries holding at least 4 KiB of text. */
  readonly worst: number
}

type Processor = Awaited<ReturnType<typeof cheapProcessor>>

/**
 * How a build caches a document: through the unified adapter, or with
 * `memo` around a render that returns the page as a string (the README's
 * first example). Returns the key of each document's entry.
 */
type Way = (cache: StoreCache, documents: readonly Document[], root: string) => Promise<{ stats: BuildStats; keys: Key[] }>

function unifiedWay(processor: Processor): Way {
  return async (cache, documents, root) => {
    const stats = new BuildStats()
    const cachedProcessor = cached(processor, { cache, root, stats })
    const keys: Key[] = []
    for (const document of documents) {
      const file = await cachedProcessor.process({ path: join(root, document.path), value: document.text, cwd: root })
      keys.push(Key.fromHex(cacheStatus(file)?.key ?? ""))
    }
    return { stats, keys }
  }
}

function memoWay(pages: ReadonlyMap<string, string>): Way {
  return async (cache, documents) => {
    const stats = new BuildStats()
    const keys: Key[] = []
    for (const document of documents) {
      const result = await memoize(cache, [document.path, document.text], () => pages.get(document.path) as string, { stats })
      keys.push(result.key)
    }
    return { stats, keys }
  }
}

async function runCorpus(bench: Bench, dir: string, codec: Codec, documents: readonly Document[], way: Way): Promise<Run> {
  const root = join(bench.outDir, "site")
  const open = () => createSqliteCache({ dir, codec })
  const cold: number[] = []
  const warm: number[] = []
  let keys: Key[] = []
  for (let r = 0; r < bench.repeat; r++) {
    const empty = await open()
    await empty.clear()
    await empty.close()
    let started = performance.now()
    let cache = await open()
    let built = await way(cache, documents, root)
    await cache.close()
    cold.push(performance.now() - started)
    if (built.stats.misses !== documents.length) throw new Error(`${dir}: cold build had ${built.stats.hits} hits`)
    started = performance.now()
    cache = await open()
    built = await way(cache, documents, root)
    await cache.close()
    warm.push(performance.now() - started)
    if (built.stats.hits !== documents.length) throw new Error(`${dir}: warm build had ${built.stats.misses} misses`)
    keys = built.keys
  }
  const cache = await open()
  let bytes = 0
  let worst = 0
  for (const id of keys) {
    const stored = await cache.store.get(cache.entryId(id))
    if (stored === undefined) continue
    bytes += stored.length
    const text = textBytes(await cache.get(id))
    if (text >= 4096) worst = Math.max(worst, stored.length / text)
  }
  await cache.close()
  return { coldMs: median(cold), warmMs: median(warm), bytes, worst }
}

export default async function strings(bench: Bench): Promise<void> {
  const limit = bench.smoke ? 100 : undefined
  const real = gatherCorpus(limit === undefined ? {} : { limit }).documents.map((document) => ({
    path: `real/${document.id}`,
    text: document.text,
  }))
  const corpora: [string, Document[]][] = [
    ["real", real],
    ["typographic", await typographic(real)],
    ["cjk", cjkDocuments(bench.smoke ? 50 : 400)],
  ]
  const rows: Row[] = []
  const data: Record<string, unknown> = {}
  const processor = await cheapProcessor()
  for (const [name, documents] of corpora) {
    const pages = new Map<string, string>()
    for (const document of documents) pages.set(document.path, String(await processor.process(document.text as never)))
    for (const [wayName, way] of [
      ["cached()", unifiedWay(processor)],
      ["memo", memoWay(pages)],
    ] as const) {
      const label = `${name}, ${wayName}`
      const dir = (codec: Codec) => join(bench.outDir, `${name}-${wayName.replace(/\W/g, "")}-${codec.name.replace(/\W/g, "")}`)
      const before = await runCorpus(bench, dir(previousCodec), previousCodec, documents, way)
      const after = await runCorpus(bench, dir(jsonOrV8Codec), jsonOrV8Codec, documents, way)
      rows.push(
        {
          label: `${label} (${documents.length} docs): cache size`,
          value: `${(after.bytes / 2 ** 20).toFixed(2)} MiB`,
          ratio: `${(after.bytes / before.bytes).toFixed(2)}×`,
          note: `of the previous codec's ${(before.bytes / 2 ** 20).toFixed(2)} MiB`,
        },
        {
          label: `${label}: largest entry ÷ smaller encoding of its text`,
          value: `${after.worst.toFixed(3)}×`,
          note: `previous codec ${before.worst.toFixed(3)}× (target ≤ 1.05×: ${after.worst <= 1.05 ? "PASS" : "MISS"})`,
        },
        {
          label: `${label}: warm build`,
          value: `${after.warmMs.toFixed(0)} ms`,
          ratio: `${(after.warmMs / before.warmMs).toFixed(2)}×`,
          note: `previous codec ${before.warmMs.toFixed(0)} ms`,
        },
        {
          label: `${label}: cold build`,
          value: `${after.coldMs.toFixed(0)} ms`,
          ratio: `${(after.coldMs / before.coldMs).toFixed(2)}×`,
          note: `previous codec ${before.coldMs.toFixed(0)} ms`,
        },
      )
      data[label] = { documents: documents.length, before, after }
    }
  }
  bench.table("Text in the cache: current codec vs the previous one (SQLite, cheap render; ratio = current ÷ previous)", rows)
  bench.record("strings", data)
}
