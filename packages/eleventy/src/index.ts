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
