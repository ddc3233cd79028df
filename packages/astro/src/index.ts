export {
  ADAPTER,
  type AstroCacheReport,
  type SitecacheAstroOptions,
  SUPPORTED_ASTRO_MAJOR,
  sitecache,
  sitecache as default,
} from "./integration.js"
export { MARKDOWN_STEP, MDX_STEP, type Step, shapeProblem } from "./steps.js"
