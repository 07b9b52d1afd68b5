// The published package: `npm pack` builds the JavaScript in dist/ and ships it with bin/, LICENSE
// and no TypeScript. The unpacked package then runs with a resolver that refuses tsx, any .ts file
// and DuckDB: --version and --help work, and a mount of the local server comes up and serves,
// which shows that a mount-only install needs neither tsx nor DuckDB. The bin prints --help from the
// texts the build rendered (dist/cli/help.json), the same as the command line prints, and loads no
// module for it; the command line's own --help loads only the entry chunk of the bundle and what it
// imports, none of the commands' code (read from the source maps).
// Installed as a user installs it (`npm install -g` of the archive into a fresh prefix, dependencies
// from the registry), its postinstall patches and builds fuse-native: the binding exports
// fuse_native_interrupts and a mount says it is interruptible; without a compiler the install still
// succeeds, with the prebuilt binding and one warning.
import { execFile } from 'node:child_process';
import { readFile, rm, symlink } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { NODE_FLAGS, ranToEnd, spawnCommand, stopCli, waitForMounts } from './support/cli-process.js';
import { tempMountDirs, testDir } from './support/daemon.js';
import { fileEnvironment, fixtureArgs } from './support/environment.js';
import { mountedInterruptible } from './support/readers.js';
import { shOk } from './support/shell.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
// tsx and .ts files fail loudly; DuckDB fails as a package that is not installed does.
const FORBIDDEN = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, nextResolve) {
  if (/^@duckdb\\\\//.test(specifier)) {
    const missing = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    missing.code = 'ERR_MODULE_NOT_FOUND';
    throw missing;
  }
  const found = await nextResolve(specifier, context);
  if (/^tsx(\\\\/|$)/.test(specifier) || /\\\\.ts$/.test(found.url)) {
    throw new Error('loaded at runtime: ' + specifier + ' from ' + context.parentURL);
  }
  return found;
}\`));`;
const FORBID_HOOK = `data:text/javascript,${encodeURIComponent(FORBIDDEN)}`;

const currentEnvironment = fileEnvironment(t);
let packageDir = '';
let packedFiles: string[] = [];
let tarball = '';

t.before(async () => {
  const out = await testDir(t, 'pack');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', out], { cwd: ROOT });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  if (!packed) throw new Error(`npm pack printed no package: ${stdout}`);
  packedFiles = packed.files.map((file) => file.path);
  tarball = join(out, packed.filename);
  await shOk(`tar -xzf '${join(out, packed.filename)}' -C '${out}'`);
  packageDir = join(out, 'package');
  // The dependencies a user's install would have; tsx and DuckDB are among them here, so the resolver refuses them.
  await symlink(join(ROOT, 'node_modules'), join(packageDir, 'node_modules'));
});

/** `bqlogfs <args>` from the package; `entry` dist/cli/main.js runs the command line without the bin. */
function packagedCli(args: string[], hooks: string[] = [], entry = 'bin/bqlogfs.cjs'): string[] {
  const imports = [FORBID_HOOK, ...hooks].flatMap((hook) => ['--import', hook]);
  return [process.execPath, ...NODE_FLAGS, ...imports, join(packageDir, entry), ...args];
}

/** A hook that appends the URL of every module Node loads to `file`, one a line. */
function loadRecorder(file: string): string {
  const hook = `export async function load(url, context, nextLoad) {
  (await import('node:fs')).appendFileSync(${JSON.stringify(file)}, url + '\\n');
  return nextLoad(url, context);
}`;
  const register = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
  return `data:text/javascript,${encodeURIComponent(register)}`;
}

/** The files of the package a command loads, and the sources (from the source maps) of its dist/ files. */
async function loadedBy(
  t: Test,
  args: string[],
  code = 0,
  entry?: string,
): Promise<{ files: string[]; sources: string[] }> {
  const record = join(await testDir(t, 'loaded'), 'modules');
  const result = await ranToEnd(spawnCommand(packagedCli(args, [loadRecorder(record)], entry)));
  t.equal(result.code, code, `${args.join(' ')}: ${result.output}`);
  const urls = (await readFile(record, 'utf8')).split('\n').filter((url) => url.startsWith('file:'));
  const files = urls.map((url) => relative(packageDir, fileURLToPath(url)));
  const sources: string[] = [];
  for (const file of files.filter((path) => path.startsWith('dist/'))) {
    const map = JSON.parse(await readFile(join(packageDir, `${file}.map`), 'utf8')) as { sources: string[] };
    sources.push(...map.sources.map((source) => relative(ROOT, resolve(ROOT, file, '..', source))));
  }
  return { files, sources };
}

t.test('the package holds compiled JavaScript, the licence, and no TypeScript', async (t) => {
  const shipped = ['bin/bqlogfs.cjs', 'dist/cli/main.js', 'dist/cli/main.js.map', 'dist/cli/help.json'];
  shipped.push('LICENSE', 'package.json');
  shipped.push('scripts/patch-fuse-native.js', 'scripts/apply-patch.js', 'patches/fuse-native.patch');
  for (const path of shipped) {
    t.ok(packedFiles.includes(path), path);
  }
  t.same(
    packedFiles.filter((path) => path.endsWith('.ts') || path.startsWith('src/')),
    [],
    'no .ts file, no src/',
  );
  const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  t.notOk('tsx' in manifest.dependencies, 'tsx is no runtime dependency');
  t.notOk('@duckdb/node-api' in manifest.dependencies, 'DuckDB is optional');
});

t.test('--version and --help run from dist without tsx or DuckDB', async (t) => {
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const printed = await ranToEnd(spawnCommand(packagedCli(['--version'])));
  t.equal(printed.code, 0, printed.output);
  t.equal(printed.stdout, `${version}\n`);
  const help = await ranToEnd(spawnCommand(packagedCli(['--help'])));
  t.equal(help.code, 0, help.output);
  for (const command of ['mount', 'fetch', 'grep', 'doctor', 'emulator', 'demo', 'unmount']) {
    t.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
  }
});

t.test('the packaged mount serves without tsx or DuckDB', async (t) => {
  const environment = currentEnvironment();
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const daemon = spawnCommand(packagedCli(['mount', mountpoint, ...fixtureArgs(environment), '--cache-dir', cacheDir]));
  t.teardown(() => stopCli(daemon, [mountpoint]).then(() => undefined));
  await waitForMounts(daemon, [mountpoint]);
  const path = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  t.equal(await shOk(`cat '${join(mountpoint, path)}'`), environment.files.get(path), 'serves the hour file');
  t.equal(await stopCli(daemon, [mountpoint]), 0, `stops cleanly: ${daemon.output()}`);
});

t.test('the local server says what it needs when DuckDB is missing', async (t) => {
  const result = await ranToEnd(spawnCommand(packagedCli(['emulator', '--port', '0'])));
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    /the local BigQuery server and the demo need @duckdb\/node-api: npm install @duckdb\/node-api/,
  );
});

t.test('the bin prints help and version as the command line does, loading no module for it', async (t) => {
  for (const args of [['--help'], ['mount', '--help'], ['help', 'grep'], ['--version'], []]) {
    const [fast, full] = await Promise.all(
      [undefined, 'dist/cli/main.js'].map((entry) => ranToEnd(spawnCommand(packagedCli(args, [], entry)))),
    );
    t.same(
      [fast?.stdout, fast?.stderr, fast?.code],
      [full?.stdout, full?.stderr, full?.code],
      `bqlogfs ${args.join(' ')}`,
    );
  }
  const help = await loadedBy(t, ['--help']);
  t.same(help.files, ['bin/bqlogfs.cjs'], 'only the bin');
});

t.test("the command line's --help loads it and commander, none of the commands", async (t) => {
  const help = await loadedBy(t, ['--help'], 0, 'dist/cli/main.js');
  t.ok(help.files.includes('dist/cli/main.js'), 'the entry chunk');
  t.same(
    help.files.filter((file) => !file.startsWith('dist/')),
    [],
    'no package from node_modules (commander is in the bundle)',
  );
  t.ok(help.sources.includes('src/cli/program.ts'), 'sources are read from the source maps');
  t.ok(help.sources.includes('node_modules/commander/lib/command.js'), 'commander is bundled');
  const commandCode = /^src\/(daemon|fetch|doctor|emulator|demo|fs|store)\//;
  t.same(
    help.sources.filter((source) => commandCode.test(source)),
    [],
    'no module of mount, fetch, grep, doctor, emulator or demo',
  );
  // The same reading sees a command's code once that command runs, through the bin.
  const unmount = await loadedBy(t, ['unmount', join(packageDir, 'dist')], 1);
  t.ok(unmount.files.includes('dist/cli/main.js'), 'the bin loads the command line');
  t.ok(unmount.sources.includes('src/daemon/mountpoint.ts'), 'unmount loads its chunk');
});

/** This environment without npm's own variables (tap may run under npx): npm as a user runs it. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return { ...env, ...extra };
}

/** The patch's markers that the binding fuse-native loads from `directory` exports, as `interrupts attr_timeouts abandoned_opens`. */
async function markersExported(directory: string): Promise<string> {
  const check = `const load = require(require.resolve('node-gyp-build', { paths: [process.argv[1]] }));
    const binding = load(process.argv[1]);
    const marks = [binding.fuse_native_interrupts, binding.fuse_native_attr_timeouts, binding.fuse_native_abandoned_opens];
    console.log(marks.map(String).join(' '))`;
  return (await run(process.execPath, ['-e', check, directory])).stdout.trim();
}

t.test('npm install -g of the archive builds the patched fuse-native, and never fails for it', async (t) => {
  const prefix = await testDir(t, 'prefix');
  const installed = join(prefix, 'lib/node_modules/bqlogfs');
  const fuseNative = join(installed, 'node_modules/fuse-native');
  const npmArgs = ['install', '-g', '--prefix', prefix, '--omit=optional', '--no-audit', '--no-fund'];
  const install = await ranToEnd(spawnCommand(['npm', ...npmArgs, '--foreground-scripts', tarball], userEnv()));
  t.equal(install.code, 0, `npm install: ${install.output}`);
  t.match(install.output, /bqlogfs: building fuse-native with patches\/fuse-native\.patch/);
  t.notMatch(install.output, /bqlogfs: warning/, 'no warning');
  t.equal(await markersExported(fuseNative), '1 1 1', 'the installed binding exports every marker of the patch');

  const patchScript = join(installed, 'scripts/patch-fuse-native.js');
  const again = await ranToEnd(spawnCommand([process.execPath, patchScript], userEnv()));
  t.same([again.code, again.output], [0, ''], 'run again, it finds the binding built and says nothing');

  const environment = currentEnvironment();
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const args = ['mount', mountpoint, ...fixtureArgs(environment), '--cache-dir', cacheDir];
  const daemon = spawnCommand([join(prefix, 'bin/bqlogfs'), ...args], userEnv());
  t.teardown(() => stopCli(daemon, [mountpoint]).then(() => undefined));
  await waitForMounts(daemon, [mountpoint]);
  t.equal(await mountedInterruptible({ logs: daemon.output }), true, 'the installed bqlogfs mounts with interrupts');
  t.match(daemon.output(), /"finishedHoursCached":true/, 'and with attribute timeouts per file');
  const path = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  t.equal(await shOk(`cat '${join(mountpoint, path)}'`), environment.files.get(path), 'and serves');
  t.equal(await stopCli(daemon, [mountpoint]), 0, `stops cleanly: ${daemon.output()}`);

  // Without a working compiler: the prebuilt binding stays, with one warning, and the script exits 0
  // (an install goes on); --require, which the Dockerfile uses, fails instead.
  await rm(join(fuseNative, 'build'), { recursive: true });
  const noCompiler = userEnv({ CC: 'false', CXX: 'false' });
  const failed = await ranToEnd(spawnCommand([process.execPath, patchScript], noCompiler));
  t.equal(failed.code, 0, 'a failed build does not fail the install');
  t.equal(failed.stderr.match(/warning/g)?.length, 1, `one warning: ${failed.stderr}`);
  t.match(failed.stderr, /bqlogfs: warning: fuse-native keeps the binding it has: building it failed/);
  t.equal(await markersExported(fuseNative), 'undefined undefined undefined', 'the prebuilt binding is the one loaded');
  const required = await ranToEnd(spawnCommand([process.execPath, patchScript, '--require'], noCompiler));
  t.equal(required.code, 1, '--require fails');
});
