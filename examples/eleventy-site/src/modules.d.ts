// The example's untyped dependencies, as far as it uses them.
declare module "@11ty/eleventy-plugin-syntaxhighlight" {
  const syntaxHighlight: (eleventyConfig: unknown, options?: Record<string, unknown>) => void
  export default syntaxHighlight
}

declare module "html-minifier-terser" {
  export function minify(html: string, options?: Record<string, unknown>): Promise<string>
}

declare module "@11ty/eleventy-img" {
  export function eleventyImageTransformPlugin(eleventyConfig: unknown, options?: Record<string, unknown>): void
}

declare module "@11ty/eleventy-navigation" {
  const navigation: (eleventyConfig: unknown, options?: Record<string, unknown>) => void
  export default navigation
}

declare module "@11ty/eleventy-plugin-rss" {
  export function feedPlugin(eleventyConfig: unknown, options?: Record<string, unknown>): void
}

declare module "@11ty/eleventy" {
  type Plugin = (eleventyConfig: never, options?: Record<string, unknown>) => unknown
  export const HtmlBasePlugin: Plugin
  export const InputPathToUrlTransformPlugin: Plugin
  export const IdAttributePlugin: Plugin
  export const I18nPlugin: Plugin
  export const RenderPlugin: Plugin
}
