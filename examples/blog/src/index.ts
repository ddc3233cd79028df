export {
  type BuildOptions,
  type BuildPhase,
  type BuildResult,
  blogSession,
  build,
  type DocumentResult,
  listDocuments,
  openCache,
  outputUrl,
  Renderer,
  renderIndex,
  writeSiteFiles,
} from "./build.js"
export { type BlogConfig, CONFIG_FILES, DEFAULT_CONFIG, type LoadSiteOptions, loadSite, type Site } from "./config.js"
export { BLOG_PACKAGE_ROOT, blogPipeline } from "./pipeline.js"
export {
  type DocumentEvent,
  defaultReporter,
  plainReporter,
  progressReporter,
  type Reporter,
  reportMessages,
  silentReporter,
} from "./reporter.js"
export { type RebuildEvent, type Watcher, type WatchOptions, watch } from "./watch.js"
