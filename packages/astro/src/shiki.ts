/**
 * Shiki stops tokenizing a line after `tokenizeTimeLimit` (500 ms by default)
 * and leaves the rest of it unhighlighted, without a word. On a busy machine
 * (a CI runner, a build with every core taken) some lines of some code blocks
 * come out that way, differently on every build; a cache would keep such a
 * render for as long as its page is unchanged. This transformer, added to
 * Astro's `markdown.shikiConfig` (which MDX extends), lifts the limit, so a
 * page is highlighted the same way whatever the load, with the cache or
 * without (`SITECACHE=off` builds get it too).
 */
export const wholeLines = {
  name: "sitecache:whole-lines",
  preprocess(_code: string, options: { tokenizeTimeLimit?: number }): undefined {
    options.tokenizeTimeLimit = 0
  },
}
