// Applies patches/fuse-native.patch to the installed fuse-native and builds its binding, so that a
// process killed while it waits on the mount for BigQuery is let go at once, the kernel keeps a
// finished hour's attributes, and the binding serves reads of cached hours itself (patches/README.md).
// Run as the package's postinstall (by `npm install` of the package, and by `npm ci` in a checkout),
// by scripts/setup.sh, and by the Dockerfile.
//
// It never fails an install: when the patch does not apply or the build fails (no python3, make, g++
// or Node headers), the prebuilt binding stays, with which everything works except that a killed
// reader waits for its query, the kernel keeps no attributes and every read goes through the JS
// thread, and one warning says so. A second run, with the patched binding built, only checks it
// (well under a second).
//
//   node scripts/patch-fuse-native.js [--require] [<fuse-native directory>]
//     --require   exit 1 instead of warning (the Dockerfile: an image must have the patched binding)
//     directory   default: the fuse-native this package resolves
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { applyPatch } from './apply-patch.js';

const ROOT = resolve(import.meta.dirname, '..');
const PATCH = join(ROOT, 'patches', 'fuse-native.patch');
const BUILD_TIMEOUT_MS = 10 * 60_000;

const args = process.argv.slice(2);
const required = args.includes('--require');
const givenDirectory = args.find((arg) => !arg.startsWith('--'));

class Unpatched extends Error {}

function fuseNativeDirectory() {
  if (givenDirectory !== undefined) return resolve(givenDirectory);
  const require = createRequire(join(ROOT, 'package.json'));
  return dirname(require.resolve('fuse-native/package.json'));
}

/** Whether the binding fuse-native loads (its own node-gyp-build) exports the patch's markers, in a fresh process. */
function hasPatchedBinding(directory) {
  const check = `const dir = process.argv[1];
    const load = require(require.resolve('node-gyp-build', { paths: [dir] }));
    const binding = load(dir);
    const marks = [
      'fuse_native_interrupts',
      'fuse_native_attr_timeouts',
      'fuse_native_abandoned_opens',
      'fuse_native_direct_reads',
    ];
    process.exit(marks.every((mark) => binding[mark] === 1) ? 0 : 1)`;
  return spawnSync(process.execPath, ['-e', check, directory], { stdio: 'ignore' }).status === 0;
}

function isBuilt(directory) {
  const binding = join(directory, 'build', 'Release', 'fuse.node');
  if (!existsSync(binding)) return false;
  return statSync(binding).mtimeMs > statSync(join(directory, 'fuse-native.c')).mtimeMs && hasPatchedBinding(directory);
}

/** npm's own node-gyp: npm names it to install scripts; otherwise it is found next to the npm on PATH. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  const npmCli = process.env.npm_execpath;
  if (npmCli) candidates.push(join(dirname(dirname(npmCli)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const npm = join(dir, 'npm');
    if (!existsSync(npm)) continue;
    candidates.push(join(dirname(dirname(realpathSync(npm))), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    break;
  }
  const found = candidates.find((path) => path !== undefined && path.endsWith('.js') && existsSync(path));
  if (found === undefined) throw new Unpatched('npm’s node-gyp was not found');
  return found;
}

/**
 * The running Node's headers, when they are installed next to it (Node's own archives and images
 * have them), so that nothing is downloaded; otherwise node-gyp fetches them as usual.
 */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(process.execPath, '..', '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function build(directory) {
  const log = join(directory, 'build.log');
  process.stderr.write('bqlogfs: building fuse-native with patches/fuse-native.patch…\n');
  const built = spawnSync(process.execPath, [nodeGyp(), 'rebuild', '--loglevel=error', ...nodeDirArgs()], {
    cwd: directory,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
  });
  writeFileSync(log, `${built.stdout ?? ''}${built.stderr ?? ''}${built.error ? String(built.error) : ''}\n`);
  if (built.status === 0 && hasPatchedBinding(directory)) return;
  rmSync(join(directory, 'build'), { recursive: true, force: true });
  throw new Unpatched(`building it failed (see ${log}; it needs python3, make, g++ and the libfuse 2 headers)`);
}

/**
 * Applies the patch, keeping fuse-native's own source next to it (`fuse-native.c.orig`) the first
 * time: a later bqlogfs whose patch differs then applies its own over that, not over this one.
 */
function applyOverOwnSource(directory) {
  const source = join(directory, 'fuse-native.c');
  const pristine = join(directory, 'fuse-native.c.orig');
  if (!existsSync(pristine) && !readFileSync(source, 'utf8').includes('fuse_native_interrupts')) {
    copyFileSync(source, pristine);
  }
  try {
    return applyPatch(directory, PATCH);
  } catch (error) {
    if (!existsSync(pristine)) {
      throw new Unpatched(
        `it has another patch, and its own source is not kept (${error.message}); reinstall it (npm ci,` +
          ' or remove node_modules/fuse-native and npm install)',
      );
    }
    copyFileSync(pristine, source);
    return applyPatch(directory, PATCH);
  }
}

function main() {
  if (process.platform !== 'linux') return;
  let directory;
  try {
    directory = fuseNativeDirectory();
    applyOverOwnSource(directory);
    if (!isBuilt(directory)) build(directory);
  } catch (error) {
    const why = error instanceof Unpatched ? error.message : `the patch did not apply: ${error.message}`;
    process.stderr.write(
      `bqlogfs: warning: fuse-native keeps the binding it has: ${why}. Everything works, but a process` +
        ' killed while it waits on the mount for BigQuery stays until its query ends, rereading a' +
        ' cached hour asks the daemon for its attributes at every open, and first reads of cached hours' +
        ' take their turn on the daemon’s JS thread (patches/README.md).\n',
    );
    if (required) process.exitCode = 1;
  }
}

main();
