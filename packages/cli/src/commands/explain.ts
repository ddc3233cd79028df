/** `sitecache explain <document>`: why a document of the last build hit or missed. */
import { isAbsolute, relative, resolve, sep } from "node:path"
import { type BuildManifest, describeDocument, type StoreCache } from "@sitecache/core"
import { UsageError } from "../args.js"
import { describeChange, type Explanation, explainDocument } from "../explain.js"
import { type CommandContext, count, print, printJson, shortTime } from "../output.js"
import { readToolRecords, selectTool } from "../scan.js"

function posix(path: string): string {
  return path.split(sep).join("/").replace(/\\/g, "/")
}

/** The names `input` may have in a manifest: as given, and relative to the project root. */
function candidates(input: string, root: string, cwd: string): string[] {
  const given = posix(input).replace(/^(\.\/)+/, "")
  const absolute = resolve(cwd, input)
  const fromRoot = relative(root, absolute)
  const names = [given]
  if (!fromRoot.startsWith("..") && !isAbsolute(fromRoot)) names.push(posix(fromRoot))
  names.push(posix(absolute))
  return [...new Set(names)]
}

/**
 * The identities of the manifest's documents for `input`: those whose path
 * is one of `names` (every step and variant of it), else those whose path
 * ends with `/input`. Several paths are ambiguous.
 */
function findDocuments(manifest: BuildManifest, names: readonly string[]): { found: string[]; ambiguous?: string[] } {
  const documents = Object.entries(manifest.documents)
  for (const name of names) {
    const exact = documents.filter(([, record]) => record.path === name)
    if (exact.length > 0) return { found: exact.map(([id]) => id) }
  }
  const [given] = names
  const endings = documents.filter(([, record]) => record.path.endsWith(`/${given}`))
  const paths = [...new Set(endings.map(([, record]) => record.path))]
  if (paths.length > 1) return { found: [], ambiguous: paths }
  return { found: endings.map(([id]) => id) }
}

function suggestions(manifests: readonly BuildManifest[], input: string): string[] {
  const base = posix(input).split("/").pop()?.toLowerCase() ?? ""
  const stem = base.replace(/\.[^.]*$/, "")
  const all = manifests.flatMap((manifest) => Object.values(manifest.documents).map((record) => record.path))
  return [...new Set(all.filter((document) => stem !== "" && document.toLowerCase().includes(stem)))].slice(0, 5)
}

export async function explain(context: CommandContext, cache: StoreCache, root: string): Promise<number> {
  const { io } = context
  const input = context.positionals[0] as string
  const records = selectTool(
    await readToolRecords(cache),
    typeof context.values.tool === "string" ? context.values.tool : undefined,
  )
  const manifests = records.flatMap(({ manifest }) => (manifest === undefined ? [] : [manifest]))
  if (manifests.length === 0) {
    io.stderr.write(`sitecache explain: no build with documents is recorded in ${cache.name}\n`)
    return 1
  }
  const names = candidates(input, root, io.cwd)
  const explanations: Explanation[] = []
  for (const manifest of manifests) {
    const { found, ambiguous } = findDocuments(manifest, names)
    if (ambiguous !== undefined) {
      throw new UsageError(
        `\`${input}\` matches ${ambiguous.length} documents of the last ${manifest.tool} build: ${ambiguous.slice(0, 5).join(", ")}; give more of its path`,
        "explain",
      )
    }
    for (const document of found) explanations.push(explainDocument(manifest, document) as Explanation)
  }
  if (explanations.length === 0) {
    const builds = manifests.map((manifest) => `${manifest.tool} (${count(Object.keys(manifest.documents).length, "document")})`)
    const similar = suggestions(manifests, input)
    io.stderr.write(
      `sitecache explain: \`${input}\` is not a document of the last build of ${builds.join(", ")}` +
        (similar.length > 0 ? `; did you mean ${similar.map((name) => `\`${name}\``).join(", ")}?` : "") +
        "\n",
    )
    return 1
  }
  if (context.json) {
    printJson(io, { document: input, explanations })
    return 0
  }
  for (const [i, explanation] of explanations.entries()) {
    if (i > 0) print(io)
    print(
      io,
      `${describeDocument({ path: explanation.document, ...explanation })}: ${explanation.hit ? "hit" : "miss"} in the last ${explanation.tool} build (${shortTime(explanation.build)} UTC)`,
    )
    print(io, `  key ${explanation.key}`)
    if (explanation.hit) {
      print(io, "  served from the cache: its content, pipeline and dependencies matched a stored entry")
      continue
    }
    if (explanation.previous !== null) {
      const previous = explanation.previous
      print(io, `  the build before (${shortTime(previous.build)} UTC): ${previous.hit ? "hit" : "miss"}, key ${previous.key}`)
    }
    print(io, `  why it missed:`)
    for (const change of explanation.changes) print(io, `  - ${describeChange(change)}`)
  }
  return 0
}
