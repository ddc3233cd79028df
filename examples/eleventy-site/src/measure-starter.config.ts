/**
 * The configuration file of `src/measure-starter.ts`'s build: the starter's
 * `config` export, and the configuration function that script set up (with
 * its timing), since Eleventy's programmatic `config` callback runs before the
 * bundle plugin that `addBundle` belongs to.
 */
import { starterDirectories } from "./starter.js"

export const MEASURED_CONFIGURATION = Symbol.for("sitecache.example.measuredStarter")

export const config = starterDirectories

export default function configure(eleventyConfig: unknown): unknown {
  const measured = (globalThis as Record<symbol, unknown>)[MEASURED_CONFIGURATION]
  if (typeof measured !== "function") throw new Error("measure-starter.config.ts is the configuration of src/measure-starter.ts")
  return measured(eleventyConfig)
}
