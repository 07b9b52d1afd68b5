// bin/bqlogfs.cjs prints help and version from the texts that `npm run build` renders into
// dist/cli/help.json, without loading the command line. Here the bin runs next to texts rendered the
// same way and no dist/cli/main.js (so it cannot fall back to the command line), and for every
// argument list that asks only for help or the version, what it prints (stdout, stderr, exit code)
// equals what the command line itself prints: through a pipe, and on terminals of several widths
// (the command line wraps help at one width on all of them). Any other argument list goes to the
// command line.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import t from 'tap';
import { helpArgumentLists, renderHelpTexts } from '../src/cli/help-texts.js';
import { cliCommand, ranToEnd, spawnCommand, type CliRun } from './support/cli-process.js';
import { testDir } from './support/daemon.js';

const ROOT = resolve(import.meta.dirname, '..');
const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
/** Terminal widths, one per argument list in turn, narrower and wider than help is wrapped at. */
const WIDTHS = [30, 79, 80, 81, 132, 300];
const argumentLists = helpArgumentLists(version);

let packageDir = '';
t.before(async () => {
  packageDir = await testDir(t, 'help-fast-path');
  await mkdir(join(packageDir, 'bin'));
  await mkdir(join(packageDir, 'dist/cli'), { recursive: true });
  await copyFile(join(ROOT, 'bin/bqlogfs.cjs'), join(packageDir, 'bin/bqlogfs.cjs'));
  await writeFile(join(packageDir, 'dist/cli/help.json'), JSON.stringify(await renderHelpTexts(version)));
});

function fastCommand(args: string[]): string[] {
  return [process.execPath, join(packageDir, 'bin/bqlogfs.cjs'), ...args];
}

function run(command: string[]): Promise<CliRun> {
  return ranToEnd(spawnCommand(command));
}

/** `command` on a terminal `width` columns wide (util-linux script); its output has CR LF line ends. */
function onTerminal(command: string[], width: number): Promise<CliRun> {
  const quoted = command.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  return run(['script', '-qec', `stty cols ${width} rows 40 && exec ${quoted}`, '/dev/null']);
}

const printed = (result: CliRun) => ({ stdout: result.stdout, stderr: result.stderr, code: result.code });

t.test('the lists cover help, version and every command', async (t) => {
  const keys = argumentLists.map((argv) => argv.join(' '));
  for (const key of ['', '--help', '-h', 'help', '--version', '-V', 'mount --help', 'help grep', 'unmount -h']) {
    t.ok(keys.includes(key), `bqlogfs ${key}`);
  }
});

t.test('through a pipe, the texts are what the command line prints', async (t) => {
  for (const argv of argumentLists) {
    const [fast, full] = await Promise.all([run(fastCommand(argv)), run(cliCommand(argv))]);
    t.same(printed(fast), printed(full), `bqlogfs ${argv.join(' ')}`);
    t.match(fast.stdout, /\S/, 'prints something');
  }
});

t.test('on a terminal of any width, the texts are what the command line prints', async (t) => {
  for (const [index, argv] of argumentLists.entries()) {
    const width = WIDTHS[index % WIDTHS.length] ?? 80;
    const [fast, full] = await Promise.all([onTerminal(fastCommand(argv), width), onTerminal(cliCommand(argv), width)]);
    t.same(printed(fast), printed(full), `${width} columns: bqlogfs ${argv.join(' ')}`);
  }
});

t.test('any other argument list goes to the command line', async (t) => {
  for (const argv of [['mount'], ['--help', 'mount'], ['mount', '/x', '--help'], ['help', 'nosuch'], ['--bogus']]) {
    const fast = await run(fastCommand(argv));
    t.equal(fast.code, 1, `bqlogfs ${argv.join(' ')}`);
    t.match(fast.stderr, /dist\/ is missing: run npm run build first/, 'it would load dist/cli/main.js');
  }
});

t.test('a reader that leaves early ends the help quietly', async (t) => {
  const result = await run([
    'sh',
    '-c',
    `'${process.execPath}' '${join(packageDir, 'bin/bqlogfs.cjs')}' --help | head -n 1`,
  ]);
  t.equal(result.stdout, 'Usage: bqlogfs [options] [command]\n');
  t.equal(result.stderr, '');
});
