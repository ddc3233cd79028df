import mdx from "@astrojs/mdx"
import sitecache from "@sitecache/astro"
import { defineConfig, passthroughImageService } from "astro/config"
import rehypeExternalLinks from "./src/plugins/rehype-external-links.mjs"
import remarkReadingTime from "./src/plugins/remark-reading-time.mjs"

// The options of the custom plugins live in one place: the tests edit them here.
export const readingTime = { wordsPerMinute: 200 }
export const externalLinks = { rel: ["noopener", "noreferrer"], target: "_blank" }

export default defineConfig({
  site: "https://example.com",
  // Images are copied as they are: no native image library in this example.
  image: { service: passthroughImageService() },
  markdown: {
    shikiConfig: { theme: "github-light" },
    remarkPlugins: [[remarkReadingTime, readingTime]],
    rehypePlugins: [[rehypeExternalLinks, externalLinks]],
  },
  integrations: [mdx(), sitecache({ backend: "sqlite" })],
})
