/**
 * Pages that print the time of the build (the official starter prints it in
 * every page) change every build, so a transform of the whole page would miss
 * every time. The plugin finds the build's time in a page (`findBuildDates`:
 * a date and time in a common form within a minute of this process's life),
 * keys the transform's entry with it replaced by a placeholder (`mask`), and
 * puts the time of the current build back into the stored result (`unmask`).
 *
 * That is right when the transform passes the date through as it is. It is
 * checked on the build that stores the entry (`passesThrough`): the date must
 * come out as often as it went in, and no other form of it may appear (an
 * `id` made from a heading that holds the date, say); else the page is not
 * cached, and the summary says how many.
 */

const MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
const DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
/** `toISOString()` (and ISO 8601 with an offset), `toUTCString()`, `toString()`. */
const DATE_FORMS = new RegExp(
  [
    String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})`,
    String.raw`(?:${DAYS}), \d{2} (?:${MONTHS}) \d{4} \d{2}:\d{2}:\d{2} GMT`,
    String.raw`(?:${DAYS}) (?:${MONTHS}) \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4}(?: \([^)]{1,64}\))?`,
  ].join("|"),
  "g",
)
/** How far from this process's life a printed time may be and still be the build's. */
const SLACK_MS = 60_000
const PLACEHOLDER = (index: number) => `\uE000sitecache:build-date:${index}\uE001`
const PLACEHOLDERS = /\uE000sitecache:build-date:(\d+)\uE001/g

/** The distinct times of this build a text prints, in order of first appearance. */
export function findBuildDates(text: string, now = Date.now()): string[] {
  const found: string[] = []
  const earliest = performance.timeOrigin - SLACK_MS
  for (const [match] of text.matchAll(DATE_FORMS)) {
    if (found.includes(match)) continue
    const time = Date.parse(match.replace(/ \([^)]*\)$/, ""))
    if (Number.isFinite(time) && time >= earliest && time <= now + SLACK_MS) found.push(match)
  }
  return found
}

/** `text` with each of `dates` replaced by its placeholder. */
export function mask(text: string, dates: readonly string[]): string {
  let masked = text
  for (const [index, date] of dates.entries()) masked = masked.replaceAll(date, PLACEHOLDER(index))
  return masked
}

/** The placeholders of `masked` replaced by `dates`; `undefined` when one has no date. */
export function unmask(masked: string, dates: readonly string[]): string | undefined {
  let missing = false
  const text = masked.replace(PLACEHOLDERS, (_, index: string) => {
    const date = dates[Number(index)]
    if (date === undefined) missing = true
    return date ?? ""
  })
  return missing ? undefined : text
}

/** Does `text` hold a placeholder? (A stored result that is not masked must not.) */
export function hasPlaceholder(text: string): boolean {
  PLACEHOLDERS.lastIndex = 0
  return PLACEHOLDERS.test(text)
}

function count(text: string, part: string): number {
  let n = 0
  for (let at = text.indexOf(part); at !== -1; at = text.indexOf(part, at + part.length)) n++
  return n
}

/** Forms another text could make of a date: its runs of four digits or more, and its letters and digits alone. */
function derivedForms(date: string): string[] {
  const forms = new Set(date.match(/\d{4,}/g) ?? [])
  forms.add(date.toLowerCase().replace(/[^a-z0-9]/g, ""))
  return [...forms]
}

/**
 * Did a transform pass the dates through as they are? Each comes out as
 * often as it went in, and no other form of one appears more often in the
 * output than in the input (both with the dates masked).
 */
export function passesThrough(input: string, output: string, dates: readonly string[]): boolean {
  const maskedInput = mask(input, dates)
  const maskedOutput = mask(output, dates)
  const plainInput = maskedInput.toLowerCase().replace(/[^a-z0-9]/g, "")
  const plainOutput = maskedOutput.toLowerCase().replace(/[^a-z0-9]/g, "")
  for (const [index, date] of dates.entries()) {
    if (count(input, date) !== count(output, date)) return false
    const placeholder = PLACEHOLDER(index)
    if (count(maskedInput, placeholder) !== count(maskedOutput, placeholder)) return false
    for (const form of derivedForms(date)) {
      if (count(maskedOutput, form) > count(maskedInput, form)) return false
      if (count(plainOutput, form) > count(plainInput, form)) return false
    }
  }
  return true
}
