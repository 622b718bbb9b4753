/**
 * Bundles the playground (web/main.ts and the parts of deltakit it uses) into web/dist/main.js
 * with esbuild, for browsers.
 *
 * Why these settings:
 * - `iife`, not ESM: a classic script runs from `file://`, so web/index.html opens with a double
 *   click, no server needed (browsers refuse module scripts from file URLs).
 * - Node built-ins: the library imports `node:fs/promises` and `node:path` lazily (dynamic
 *   `import()`), only when a path is given; those imports stay as they are and never run in a
 *   browser. A *static* import of a `node:` module reachable from the page would break it at load,
 *   so the build fails on one, naming the importing file, instead of producing a broken page.
 * - The built-in models that exist under models/ are embedded (base64, `__DELTAKIT_BUILTINS__`),
 *   about 120 KB each: the page needs no server, and its default model is a trained one.
 * - onnx-proto (protobufjs) is CommonJS; esbuild wraps it, nothing to configure.
 * - No lazy `import()` of deltakit's own modules anywhere in src/: deltakit declares
 *   `"sideEffects": false`, and esbuild can drop the initialiser of a module that is both imported
 *   statically and lazily (evanw/esbuild#2326, #1490), which would leave onnx-proto undefined.
 *   The browser test decodes an ONNX file through this bundle, so such a regression fails there.
 *
 * @example
 * npm run build:web                 # writes web/dist/main.js (+ .map); open web/index.html
 * npx tsx web/build.ts --watch      # rebuild on change
 */
import { basename, resolve, dirname, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as esbuild from 'esbuild';
import { BUILTIN_TASKS, builtinSpec, KWS_VERIFIER_FILE } from '../src/train/builtin.js';
import { decodeModelFile } from '../src/model/io.js';
import { verifiedDetectorOfModel } from '../src/train/kws-verifier.js';
import type { BuiltinModelFile, KeywordStreamFiles } from './builtins.js';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));

export interface WebBuildOptions {
  /** Output directory (default web/dist). */
  outdir?: string;
  /** Minify (default true: the size reported is what a user would ship). */
  minify?: boolean;
}

export interface WebBuildResult {
  /** Absolute path of the bundled script. */
  file: string;
  /** Its size in bytes. */
  bytes: number;
}

/** Keeps lazy `import('node:…')` external; refuses a static `import … from 'node:…'`. */
const nodeBuiltins: esbuild.Plugin = {
  name: 'node-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (args.kind === 'dynamic-import') return { path: args.path, external: true };
      return {
        errors: [
          {
            text: `${relative(process.cwd(), args.importer)} imports ${args.path} statically: in a browser bundle Node built-ins may only be imported lazily (await import('${args.path}')) on a path-only code path`,
          },
        ],
      };
    });
  },
};

/**
 * The built-in models whose files exist in models/ (base64), embedded in the bundle so the page
 * works from file:// with no fetch. Other tasks' models appear in the page's selector once
 * their files are committed and the page is rebuilt.
 */
export function builtinModelFiles(): BuiltinModelFile[] {
  return BUILTIN_TASKS.map((task) => builtinSpec(task))
    .filter((spec) => existsSync(spec.file))
    .map((spec) => ({ task: spec.task, file: basename(spec.file), base64: readFileSync(spec.file).toString('base64') }));
}

/**
 * The two-stage keywords, when the keyword-stream model's file holds tuned two-stage settings
 * (kwsVerify) and the built-in verifier's file exists: the playground's "keywords in two stages"
 * runs the stream model as the first stage and the verifier (the keyword classifier fine-tuned on
 * the stream model's candidates, the one those settings were tuned for) as the second.
 */
export function keywordStreamFile(): KeywordStreamFiles | null {
  const file = resolve(dirname(builtinSpec('keywords').file), 'kws-streams-deltagru.safetensors');
  if (!existsSync(file) || !existsSync(KWS_VERIFIER_FILE)) return null;
  const bytes = readFileSync(file);
  if (verifiedDetectorOfModel(decodeModelFile(bytes).model) === null) return null;
  return {
    file: basename(file),
    base64: bytes.toString('base64'),
    verifier: { file: basename(KWS_VERIFIER_FILE), base64: readFileSync(KWS_VERIFIER_FILE).toString('base64') },
  };
}

/** esbuild options shared by one-shot builds and watch mode. */
function buildOptions(o: WebBuildOptions): esbuild.BuildOptions {
  return {
    entryPoints: [resolve(WEB_DIR, 'main.ts')],
    outfile: resolve(o.outdir ?? resolve(WEB_DIR, 'dist'), 'main.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    // Chrome/Edge 91, Firefox 89, Safari 16.4: all have WebAssembly SIMD, BigInt and ES2020.
    target: ['es2020'],
    minify: o.minify ?? true,
    sourcemap: 'linked',
    plugins: [nodeBuiltins],
    logLevel: 'silent',
    legalComments: 'none',
    define: { __DELTAKIT_BUILTINS__: JSON.stringify(builtinModelFiles()), __DELTAKIT_KWS_STREAMS__: JSON.stringify(keywordStreamFile()) },
  };
}

/**
 * Build the playground bundle once.
 *
 * @example const { file, bytes } = await buildWeb(); // web/dist/main.js
 */
export async function buildWeb(o: WebBuildOptions = {}): Promise<WebBuildResult> {
  const opts = buildOptions(o);
  await esbuild.build(opts);
  const file = opts.outfile!;
  return { file, bytes: statSync(file).size };
}

async function main(): Promise<void> {
  if (process.argv.includes('--watch')) {
    const ctx = await esbuild.context({ ...buildOptions({}), logLevel: 'info' });
    await ctx.watch();
    console.log('watching web/ and src/ (Ctrl-C to stop)');
    return;
  }
  const { file, bytes } = await buildWeb();
  console.log(`${relative(process.cwd(), file)}  ${(bytes / 1024).toFixed(1)} KB; open ${relative(process.cwd(), resolve(WEB_DIR, 'index.html'))} in a browser`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    // esbuild's message lists each error with its file and line.
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
