/**
 * One whole build of the example blog in a process of its own (see
 * blog-build.ts). Run from the sources (`node --conditions=@sitecache/source
 * --import tsx`): the blog loads its plugins by path, which a bundle would move.
 *
 * Usage: `build-child.ts <backend> <site-root> <cache-dir>`. Prints one JSON
 * line: the build's counts, what its cache counted, every sitecache warning,
 * and a digest of the site it wrote.
 */
import { buildBlog } from "./blog-build.js"

const [backend = "", root = "", dir = ""] = process.argv.slice(2)
const report = await buildBlog(backend, root, dir)
process.stdout.write(`${JSON.stringify(report)}\n`)
