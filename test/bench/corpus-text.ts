/** Deterministic text of a given size that looks like markdown with some non-ASCII. */
export function sampleText(bytes: number, seed = 1): string {
  const words = [
    "static",
    "site",
    "cache",
    "render",
    "markdown",
    "déjà",
    "vu",
    "naïve",
    "<code>",
    "—",
    "build",
    "κόσμε",
    "🎉",
    "hash",
  ]
  let state = seed
  let out = ""
  while (out.length < bytes) {
    state = (state * 1103515245 + 12345) & 0x7fffffff
    out += words[state % words.length]
    out += state % 11 === 0 ? "\n\n" : " "
  }
  return out.slice(0, bytes)
}
