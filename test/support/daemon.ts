// Runs `bqlogfs mount` in a child process, as a user would, and waits until the kernel shows the mount.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sh } from './shell.js';

const CLI = resolve(import.meta.dirname, '../../src/cli.ts');
/** The heap flags the npm script and bin/bqlogfs.js run the daemon with. */
export const NODE_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=128'];

export interface Daemon {
  mountpoint: string;
  /** The arguments after the mountpoint. */
  args: string[];
  process: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

export async function isMounted(mountpoint: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  // The kernel writes a space in a path as \040 (and tab, newline, backslash likewise).
  const escaped = mountpoint.replace(/[ \t\n\\]/g, (char) => `\\${char.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mounts.split('\n').some((line) => line.split(' ')[1] === escaped);
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `bqlogfs-${prefix}-`));
}

/**
 * Starts `bqlogfs mount`. With `clockOffsetS` the daemon runs under faketime, its clock that many
 * seconds ahead of the real one (or behind, if negative).
 */
export async function startDaemon(
  baseArgs: string[],
  mountpoint: string,
  extraArgs: string[] = [],
  options: { clockOffsetS?: number } = {},
): Promise<Daemon> {
  const args = [...baseArgs, ...extraArgs];
  const command = [process.execPath, ...NODE_FLAGS, '--import', 'tsx', CLI, 'mount', mountpoint, ...args];
  const { clockOffsetS } = options;
  if (clockOffsetS !== undefined) command.unshift('faketime', '-f', `${clockOffsetS >= 0 ? '+' : ''}${clockOffsetS}`);
  const [program = '', ...programArgs] = command;
  const child = spawn(program, programArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  for (let waited = 0; !(await isMounted(mountpoint)); waited += 50) {
    if (child.exitCode !== null || waited > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`daemon did not mount ${mountpoint}:\n${output}`);
    }
    await sleep(50);
  }
  return {
    mountpoint,
    args,
    process: child,
    logs: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (await isMounted(mountpoint)) await sh(`fusermount -uz '${mountpoint}'`);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
