/**
 * Finding a backend from what a configuration names: core's own (`memory`,
 * `null`), a name (`sqlite`: the package `@sitecache/backend-sqlite`, else
 * `sitecache-backend-sqlite`, else a package called `sqlite`), or a module
 * specifier (`./backends/mine.js`, `/abs/path.js`, `@scope/pkg`, a `file:`
 * URL). Packages are resolved from the places `createCache` is told about,
 * then the project root, then core itself, and loaded on demand.
 */
import { readdirSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, isAbsolute, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { Backend } from "./backend.js"
import { BackendMissingError, BadOptionError } from "./errors.js"
import { memoryBackend, nullBackend } from "./memory.js"
import { closestName } from "./options.js"

/** Core's own backends, found without loading a package. */
const CORE_BACKENDS: Readonly<Record<string, Backend>> = { memory: memoryBackend, null: nullBackend }

const NAME = /^[a-z0-9][a-z0-9_-]*$/i

/** Whether `spec` is a backend name (else a module specifier). */
export function isBackendName(spec: string): boolean {
  return NAME.test(spec)
}

/** The packages a name may be, in the order they are tried. */
export function backendPackages(name: string): string[] {
  return [`@sitecache/backend-${name}`, `sitecache-backend-${name}`, name]
}

export interface LoadBackendOptions {
  /** The project root: relative module paths are relative to it, and packages are resolved from it. */
  readonly root: string
  /** Extra places to resolve packages from (file URLs or paths), tried first. */
  readonly resolveFrom?: string | URL | readonly (string | URL)[]
  /** The option that named it, for messages. */
  readonly option: string
}

function bases(options: LoadBackendOptions): (string | URL)[] {
  return [options.resolveFrom ?? [], pathToFileURL(join(options.root, "package.json")), import.meta.url].flat()
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string }).code
  return code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED"
}

/** The descriptor a module exports: its `backend` export, else its default export. */
function descriptorOf(module: Record<string, unknown>, spec: string, option: string): Backend {
  const candidate = (module.backend ?? module.default) as Partial<Backend> | undefined
  if (
    candidate === null ||
    typeof candidate !== "object" ||
    typeof candidate.name !== "string" ||
    !NAME.test(candidate.name) ||
    typeof candidate.options !== "object" ||
    typeof candidate.open !== "function" ||
    typeof candidate.location !== "function"
  ) {
    throw new BadOptionError(
      option,
      `${JSON.stringify(spec)} is no sitecache backend: it exports no \`backend\` descriptor ({ name, options, location, open })`,
    )
  }
  return candidate as Backend
}

async function importResolved(file: string, spec: string, option: string): Promise<Backend> {
  return descriptorOf((await import(pathToFileURL(file).href)) as Record<string, unknown>, spec, option)
}

/** Resolve `specifier` as a package from the first base that has it; `undefined` when none does. */
function resolvePackage(specifier: string, options: LoadBackendOptions): { file?: string; error?: unknown } {
  let lastError: unknown
  for (const base of bases(options)) {
    try {
      const file = createRequire(base).resolve(specifier)
      // A name that is also one of Node's modules (`fs`) resolves to it, not to a file: no backend.
      if (isAbsolute(file)) return { file }
    } catch (error) {
      if (!isNotFound(error)) throw error
      lastError = error
    }
  }
  return { error: lastError }
}

/** The backends installed where packages are resolved from (`@sitecache/backend-*`, `sitecache-backend-*`), for messages. */
function installedBackends(options: LoadBackendOptions): string[] {
  const names = new Set(Object.keys(CORE_BACKENDS))
  for (const base of bases(options)) {
    const path = base instanceof URL || String(base).startsWith("file:") ? fileURLToPath(base) : String(base)
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      for (const [folder, prefix] of [
        [join(dir, "node_modules", "@sitecache"), "backend-"],
        [join(dir, "node_modules"), "sitecache-backend-"],
      ] as const) {
        try {
          for (const entry of readdirSync(folder)) if (entry.startsWith(prefix)) names.add(entry.slice(prefix.length))
        } catch {}
      }
      if (dirname(dir) === dir) break
    }
  }
  return [...names].sort()
}

function checkName(backend: Backend, spec: string, specifier: string, option: string): Backend {
  if (backend.name !== spec)
    throw new BadOptionError(
      option,
      `the package \`${specifier}\` is the backend ${JSON.stringify(backend.name)}, not ${JSON.stringify(spec)}`,
    )
  return backend
}

/**
 * The backend `spec` names. A name nothing provides is `BackendMissingError`
 * naming the package to install, or, when it is within two edits of an
 * installed backend, `BadOptionError` suggesting that one.
 */
export async function loadBackend(spec: string, options: LoadBackendOptions): Promise<Backend> {
  const own = Object.hasOwn(CORE_BACKENDS, spec) ? CORE_BACKENDS[spec] : undefined
  if (own !== undefined) return own
  if (!isBackendName(spec)) {
    const path = spec.startsWith("file:")
      ? fileURLToPath(spec)
      : isAbsolute(spec) || spec.startsWith(".")
        ? resolve(options.root, spec)
        : undefined
    if (path !== undefined) {
      try {
        return await importResolved(path, spec, options.option)
      } catch (error) {
        if (!isNotFound(error)) throw error
        throw new BadOptionError(options.option, `no backend module at ${path}`, { cause: error })
      }
    }
    const { file, error } = resolvePackage(spec, options)
    if (file === undefined)
      throw new BackendMissingError(spec, spec, {
        cause: error,
        message: `sitecache: backend \`${spec}\` is not installed: no package \`${spec}\` was found; install it (\`pnpm add ${spec}\`), or give \`${options.option}\` its module path`,
      })
    return importResolved(file, spec, options.option)
  }
  let firstError: unknown
  for (const specifier of backendPackages(spec)) {
    const { file, error } = resolvePackage(specifier, options)
    firstError ??= error
    if (file === undefined) continue
    if (specifier === spec) {
      // A package that only shares the name (`redis`, `sqlite` on npm) is not a backend: the conventional one is missing.
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>
      if (module.backend === undefined && (module.default as { open?: unknown } | undefined)?.open === undefined) continue
      return descriptorOf(module, spec, options.option)
    }
    return checkName(await importResolved(file, specifier, options.option), spec, specifier, options.option)
  }
  const installed = installedBackends(options)
  const closest = closestName(spec, installed)
  if (closest !== undefined)
    throw new BadOptionError(
      options.option,
      `unknown backend ${JSON.stringify(spec)} (did you mean ${JSON.stringify(closest)}?); installed backends: ${installed.map((name) => `"${name}"`).join(", ")}`,
    )
  const [conventional, community] = backendPackages(spec) as [string, string]
  throw new BackendMissingError(spec, conventional, {
    cause: firstError,
    message: `sitecache: backend \`${spec}\` is not installed: no package \`${conventional}\` or \`${community}\` was found (installed backends: ${installed.join(", ")}); install the package that provides it (\`pnpm add ${conventional}\`), or give \`${options.option}\` its module path`,
  })
}
