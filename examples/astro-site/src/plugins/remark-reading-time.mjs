import { visit } from "unist-util-visit"

/** Counts the words of a document and sets `minutesRead` in its frontmatter. */
export default function remarkReadingTime(options = {}) {
  const wordsPerMinute = options.wordsPerMinute ?? 200
  return (tree, file) => {
    let words = 0
    visit(tree, ["text", "inlineCode"], (node) => {
      words += node.value.split(/\s+/).filter(Boolean).length
    })
    const minutes = Math.max(1, Math.round(words / wordsPerMinute))
    file.data.astro ??= {}
    file.data.astro.frontmatter ??= {}
    file.data.astro.frontmatter.minutesRead = `${minutes} min read`
  }
}
