// `@11ty/eleventy` ships no types for its programmatic API: what the tests and the benchmark use of it.
declare module "@11ty/eleventy" {
  export default class Eleventy {
    constructor(
      input?: string,
      output?: string,
      options?: { quietMode?: boolean; configPath?: string; config?: (eleventyConfig: never) => unknown },
    )
    write(): Promise<unknown>
  }
}
