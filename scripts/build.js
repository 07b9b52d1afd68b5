// `npm run build` (after tsc has type-checked src/): bundles the command line into dist/ with esbuild.
// dist/cli/main.js holds what every command needs (the command line, its settings, commander); each
// command's own code is in chunks under dist/chunks/ that main.js imports only when that command
// runs, so `--help` reads a handful of files instead of resolving some 160 modules. The other
// dependencies stay packages, loaded from node_modules as before; the package needs no esbuild.
// Then the help and version texts are rendered from that program into dist/cli/help.json (see
// src/cli/help-texts.ts), which bin/bqlogfs.cjs prints without loading the command line.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Bundled rather than loaded from node_modules: small, pure JavaScript, and used by every command.
 * commander is CommonJS, which an ES module imports at a cost of its own (about 25 ms).
 */
const BUNDLED = new Set(['commander']);

const manifest = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8'));
const packages = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
const external = packages.filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`]);

// commander's require() calls of Node's own modules need a require function in an ES module.
const banner = {
  js: "import { createRequire as bqlogfsCreateRequire } from 'node:module';\nconst require = bqlogfsCreateRequire(import.meta.url);",
};

await rm(`${ROOT}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  platform: 'node',
  target: `node${manifest.engines.node.replace(/^>=/, '')}`,
  format: 'esm',
  splitting: true,
  outdir: 'dist',
  outbase: 'src',
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  external,
  // Paths as the package sees them (node_modules/commander), also where node_modules is a symlink.
  preserveSymlinks: true,
  banner,
  // For stack traces in the sources: NODE_OPTIONS=--enable-source-maps (see docs/performance.md).
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});

const renderer = `${ROOT}dist/help-texts.tmp.js`;
await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/cli/help-texts.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: renderer,
  external,
  preserveSymlinks: true,
  banner,
  logLevel: 'warning',
});
try {
  const { renderHelpTexts } = await import(pathToFileURL(renderer).href);
  await writeFile(`${ROOT}dist/cli/help.json`, JSON.stringify(await renderHelpTexts(manifest.version)));
} finally {
  await rm(renderer);
}
