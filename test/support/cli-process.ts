// Runs the bqlogfs command line in a child process with any arguments and environment, for the
// commands and forms that startDaemon does not cover (--all, doctor, a stub systemd-notify).
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMounted, NODE_FLAGS } from './daemon.js';
import { sh } from './shell.js';

const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('close', (code) => resolveExit(code)));
  return { child, output: () => output, exited };
}

/** Runs a command to its end. */
export async function runCli(
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const run = spawnCli(args, env);
  const code = await run.exited;
  return { code, output: run.output() };
}

/** Waits until every mountpoint shows in /proc/mounts; fails with the daemon's output if it exits first. */
export async function waitForMounts(run: CliProcess, mountpoints: string[], timeoutMs = 30_000): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    const mounted = await Promise.all(mountpoints.map(isMounted));
    if (mounted.every(Boolean)) return;
    if (run.child.exitCode !== null || waited > timeoutMs) {
      run.child.kill('SIGKILL');
      throw new Error(`not mounted: ${mountpoints.join(', ')}\n${run.output()}`);
    }
    await sleep(50);
  }
}

/** Stops a daemon with SIGTERM; returns its exit code, and clears whatever it left mounted. */
export async function stopCli(run: CliProcess, mountpoints: string[]): Promise<number | null> {
  if (run.child.exitCode === null) run.child.kill('SIGTERM');
  const code = await Promise.race([run.exited, sleep(10_000).then(() => undefined)]);
  if (code === undefined) run.child.kill('SIGKILL');
  for (const mountpoint of mountpoints) {
    if (await isMounted(mountpoint)) await sh(`fusermount -uz '${mountpoint}'`);
  }
  return code ?? null;
}
