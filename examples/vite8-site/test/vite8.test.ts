/** The Vite matrix of examples/vite-site (`test/matrix.ts` there) on Vite 8 (Rolldown). */
import { build, type InlineConfig, version } from "vite"
import { describeViteMatrix } from "../../vite-site/test/matrix.js"

// The site's configuration is typed with Vite 7's types, the same shape at run time.
describeViteMatrix({ build: (config) => build(config as unknown as InlineConfig), version })
