/**
 * Key parts the plugin computes once per build: what every entry's key holds
 * besides its own input (the Eleventy plugins with their options, the
 * markdown library), and why the steps cannot be cached when a part of them
 * cannot be fingerprinted soundly.
 */
import { types } from "node:util"
import {
  describeUnsound,
  fingerprint,
  installedVersion,
  type Key,
  key,
  type Uncacheable,
  type ValueFingerprint,
} from "@sitecache/core"
import { type MarkdownLibrary, markdownFingerprint } from "./markdown.js"

/** A key part, and why the steps it is part of cannot be cached, when they cannot. */
export interface Part {
  readonly key: Key
  readonly uncacheable?: Uncacheable
}

/** An Eleventy plugin as `eleventyConfig.plugins` lists it. */
export interface PluginEntry {
  readonly plugin?: unknown
  readonly options?: unknown
}

/** The first part of `fingerprints` that cannot be seen, as a reason naming `what` it belongs to. */
export function unsoundReason(
  fingerprints: readonly ValueFingerprint[],
  what: (index: number) => string,
  base: (index: number) => string = () => "",
): string | undefined {
  for (const [index, { unsound }] of fingerprints.entries()) {
    const [first] = unsound
    if (first !== undefined) return describeUnsound(first, what(index), base(index))
  }
  return undefined
}

/** A plugin's name for people: its function's name, read without running anything of it. */
export function pluginName(plugin: unknown): string {
  if (typeof plugin !== "function" || types.isProxy(plugin)) return "(anonymous)"
  const name = Reflect.getOwnPropertyDescriptor(plugin, "name")?.value
  return typeof name === "string" && name !== "" ? name : "(anonymous)"
}

/**
 * Every Eleventy plugin but this one, with its options, and Eleventy's
 * version: a change to one misses. Uncacheable when one cannot be
 * fingerprinted soundly, since what a plugin does to the markdown library or
 * to a page cannot be told apart from the rest.
 */
export function pluginsPart(plugins: readonly PluginEntry[], root: string): Part {
  const eleventy = installedVersion("@11ty/eleventy", root)
  let uncacheable: Uncacheable | undefined
  const fingerprints = plugins.map((entry) => {
    const plugin = fingerprint(entry.plugin)
    const options = fingerprint(entry.options)
    const reason = unsoundReason([plugin, options], (index) => (index === 0 ? "plugin function" : "option"))
    if (reason !== undefined) uncacheable ??= { step: `eleventy plugin ${pluginName(entry.plugin)}`, reason }
    return { plugin: plugin.key, options: options.key }
  })
  const part = key({ eleventy, plugins: fingerprints })
  return uncacheable === undefined ? { key: part } : { key: part, uncacheable }
}

/** The markdown library with its configuration and plugins, and markdown-it's version. */
export function markdownPart(md: MarkdownLibrary, root: string): Part {
  const library = markdownFingerprint(md)
  const part = key({ library: library.key, markdownIt: installedVersion("markdown-it", root) })
  const reason = unsoundReason([library], () => "markdown library")
  return reason === undefined ? { key: part } : { key: part, uncacheable: { step: "markdown-it", reason } }
}

/** The value at a dotted path of template data, fingerprinted. */
export function dataAt(data: unknown, path: string): ValueFingerprint {
  let value: unknown = data
  for (const name of path.split(".")) {
    if (value === null || typeof value !== "object") return fingerprint(undefined)
    value = (value as Record<string, unknown>)[name]
  }
  return fingerprint(value)
}
