/** The Vite matrix (`./matrix.ts`) on Vite 7 (Rollup). */
import { build, version } from "vite"
import { describeViteMatrix } from "./matrix.js"

describeViteMatrix({ build, version })
