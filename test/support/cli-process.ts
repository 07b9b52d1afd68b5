// Runs the bqlogfs command line in a child process as bin/bqlogfs.cjs does, with the same heap flags,
// but the TypeScript sources through tsx, so tests need no build (test/package.test.ts runs the
// compiled package, and the benchmarks the compiled command line). Every test that runs the CLI goes
// through here.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sh } from './shell.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(ROOT, 'src/cli/main.ts');
const FORBID_FUSE = resolve(import.meta.dirname, 'forbid-fuse.ts');

/** The Node flags of the `#!` line of `bin` (test/recipes.test.ts holds the npm scripts and the Dockerfile to them). */
export function shebangFlags(bin = resolve(ROOT, 'bin/bqlogfs.cjs')): string[] {
  const shebang = readFileSync(bin, 'utf8').split('\n')[0] ?? '';
  return shebang.split(' ').filter((word) => word.startsWith('--'));
}

/** The heap flags bin/bqlogfs.cjs, the npm scripts and the Dockerfile run the CLI with. */
export const NODE_FLAGS = shebangFlags();

export interface CliOptions {
  /** Variables added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Runs with libfaketime, its clock this many seconds ahead of the real one (behind if negative). */
  clockOffsetS?: number;
  /** Fails the run if anything loads FUSE: proves that a command works without libfuse. */
  forbidFuse?: boolean;
  /**
   * Runs the compiled command line of checkout `built` (dist/cli/main.js, from `npm run build`), as
   * the package does, instead of its sources through tsx: the benchmarks measure what users run.
   */
  built?: string;
}

/** A local server: its REST URL, and the address of its Storage Read API. */
export interface ServerAddress {
  url: string;
  storageAddress: string;
}

/**
 * `--project P [--dataset D] --api-endpoint URL [--read-api-endpoint HOST:PORT]`: the flags that
 * point a command at a local server (given as a bare URL, results are read over REST).
 */
export function serverArgs(server: string | ServerAddress, project: string, dataset?: string): string[] {
  const url = typeof server === 'string' ? server : server.url;
  return [
    '--project',
    project,
    ...(dataset === undefined ? [] : ['--dataset', dataset]),
    '--api-endpoint',
    url,
    ...(typeof server === 'string' ? [] : ['--read-api-endpoint', server.storageAddress]),
  ];
}

/**
 * The environment that runs a program with a clock `offsetS` seconds off, through libfaketime
 * itself rather than the `faketime` wrapper: the wrapper names a semaphore and a shared memory
 * object after its own process id and leaves both behind when it is killed, so a later wrapper that
 * gets the same id fails to start (sem_open: File exists). A relative offset needs neither. `$LIB`
 * is left for the dynamic loader to expand (lib/x86_64-linux-gnu on Debian), as the wrapper does.
 */
function fakeClock(offsetS: number): string[] {
  return ['LD_PRELOAD=/usr/$LIB/faketime/libfaketime.so.1', `FAKETIME=${offsetS >= 0 ? '+' : ''}${offsetS}`];
}

/** The program and its arguments that run a node script with tsx, as the CLI runs. */
export function nodeCommand(scriptArgs: string[], options: CliOptions = {}): string[] {
  const command = [process.execPath, ...NODE_FLAGS, '--import', 'tsx'];
  if (options.forbidFuse) command.push('--import', FORBID_FUSE);
  command.push(...scriptArgs);
  const { clockOffsetS } = options;
  if (clockOffsetS !== undefined) command.unshift('env', ...fakeClock(clockOffsetS));
  return command;
}

/** The program and its arguments that run `bqlogfs <args>`. */
export function cliCommand(args: string[], options: CliOptions = {}): string[] {
  const { built } = options;
  if (built !== undefined) {
    return [
      process.execPath,
      ...shebangFlags(resolve(built, 'bin/bqlogfs.cjs')),
      resolve(built, 'dist/cli/main.js'),
      ...args,
    ];
  }
  return nodeCommand([CLI, ...args], options);
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Standard output and standard error, interleaved as they came. */
  output(): string;
  /** Resolves with the exit code when the process has ended. */
  exited: Promise<number | null>;
  /** Resolves once the process has ended and its output has been read to its end. */
  closed: Promise<void>;
}

/**
 * This process's environment plus `extra`, without the process tracking tap adds to NODE_OPTIONS:
 * the CLI runs as a user runs it, and does not pay for loading tap's hooks at every start.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  const options = (env.NODE_OPTIONS ?? '')
    .split(/\s+/)
    .filter((option) => option !== '' && !option.includes('@tapjs/'));
  if (options.length > 0) env.NODE_OPTIONS = options.join(' ');
  else delete env.NODE_OPTIONS;
  return env;
}

/** Runs any program with this process's environment plus `env`, collecting its output. */
export function spawnCommand([program = '', ...args]: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const closed = new Promise<void>((resolveClose) => child.once('close', () => resolveClose()));
  return { child, stdout: () => stdout, stderr: () => stderr, output: () => output, exited, closed };
}

export function spawnCli(args: string[], options: CliOptions = {}): CliProcess {
  return spawnCommand(cliCommand(args, options), options.env);
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** What a run printed and how it ended, once it has ended. */
export async function ranToEnd(run: CliProcess): Promise<CliRun> {
  const code = await run.exited;
  await run.closed;
  return { code, signal: run.child.signalCode, stdout: run.stdout(), stderr: run.stderr(), output: run.output() };
}

/** Runs `bqlogfs <args>` to its end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return ranToEnd(spawnCli(args, options));
}

/** Starts a node script with tsx, as the CLI runs. */
export function spawnNode(scriptArgs: string[], options: CliOptions = {}): CliProcess {
  return spawnCommand(nodeCommand(scriptArgs, options), options.env);
}

/** Runs a node script with tsx, as the CLI runs, to its end. */
export function runNode(scriptArgs: string[], options: CliOptions = {}): Promise<CliRun> {
  return ranToEnd(spawnCommand(nodeCommand(scriptArgs, options), options.env));
}

export async function isMounted(mountpoint: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  // The kernel writes a space in a path as \040 (and tab, newline, backslash likewise).
  const escaped = mountpoint.replace(/[ \t\n\\]/g, (char) => `\\${char.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mounts.split('\n').some((line) => line.split(' ')[1] === escaped);
}

/**
 * Sends SIGTERM to `run` within milliseconds of `mountpoint` appearing (watched more closely than
 * waitForMounts does) and resolves with how it ended: its exit code, or the signal that killed it.
 */
export async function stopTheMomentMounted(run: CliProcess, mountpoint: string): Promise<string> {
  const exited = new Promise<string>((resolve) =>
    run.child.once('exit', (code, signal) => resolve(signal ?? String(code))),
  );
  while (!(await isMounted(mountpoint)) && run.child.exitCode === null) await sleep(2);
  run.child.kill('SIGTERM');
  return exited;
}

export async function unmountIfMounted(mountpoint: string): Promise<void> {
  if (await isMounted(mountpoint)) await sh(`fusermount -uz '${mountpoint}'`);
}

function hasEnded(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits until every mountpoint shows in /proc/mounts; fails with the daemon's output if it exits first. */
export async function waitForMounts(run: CliProcess, mountpoints: string[], timeoutMs = 30_000): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    const mounted = await Promise.all(mountpoints.map(isMounted));
    if (mounted.every(Boolean)) return;
    if (hasEnded(run.child) || waited > timeoutMs) {
      run.child.kill('SIGKILL');
      throw new Error(`not mounted: ${mountpoints.join(', ')}\n${run.output()}`);
    }
    await sleep(50);
  }
}

/** Stops a daemon with SIGTERM; returns its exit code, and clears whatever it left mounted. */
export async function stopCli(run: CliProcess, mountpoints: string[]): Promise<number | null> {
  if (!hasEnded(run.child)) run.child.kill('SIGTERM');
  const code = await Promise.race([run.exited, sleep(10_000).then(() => undefined)]);
  if (code === undefined) run.child.kill('SIGKILL');
  for (const mountpoint of mountpoints) await unmountIfMounted(mountpoint);
  return code ?? null;
}
