// The example's untyped dependencies, as far as it uses them.
declare module "@11ty/eleventy-plugin-syntaxhighlight" {
  const syntaxHighlight: (eleventyConfig: unknown, options?: Record<string, unknown>) => void
  export default syntaxHighlight
}

declare module "html-minifier-terser" {
  export function minify(html: string, options?: Record<string, unknown>): Promise<string>
}
