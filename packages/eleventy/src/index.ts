export { findBuildDates } from "./build-date.js"
export { fingerprint, installedVersion } from "./fingerprint.js"
export { type MarkdownLibrary, markdownFingerprint } from "./markdown.js"
export {
  ADAPTER,
  EleventyCache,
  type EleventyCacheReport,
  type EleventyConfigLike,
  type EleventyEventArgument,
  type SitecacheOptions,
  sitecache,
  sitecache as default,
  type TemplateData,
  TOOL,
  type TransformCallback,
  type TransformThis,
} from "./plugin.js"
export { type BuildDatePages, HTML_TRANSFORMER, type HtmlTransformerLike } from "./transform.js"
