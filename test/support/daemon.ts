// Runs `bqlogfs mount` in a child process, as a user would, and waits until the kernel shows the mount.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli, stopCli, waitForMounts, type CliOptions } from './cli-process.js';

export interface Daemon {
  mountpoint: string;
  /** The arguments after the mountpoint. */
  args: string[];
  process: ChildProcess;
  logs(): string;
  /** Stops the daemon with SIGTERM (SIGKILL if it does not exit) and clears whatever it left mounted. */
  stop(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `bqlogfs-${prefix}-`));
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

type Teardown = { teardown(fn: () => Promise<void>): void };

/** A new temporary directory, removed when the test ends. */
export async function testDir(t: Teardown, prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  t.teardown(() => removeDir(dir));
  return dir;
}

/** Starts `bqlogfs mount <mountpoint> <args>`; with `clockOffsetS` under faketime. */
export async function startDaemon(
  args: string[],
  mountpoint: string,
  options: Pick<CliOptions, 'clockOffsetS' | 'env' | 'built'> = {},
): Promise<Daemon> {
  const run = spawnCli(['mount', mountpoint, ...args], options);
  await waitForMounts(run, [mountpoint]);
  return {
    mountpoint,
    args,
    process: run.child,
    logs: run.output,
    stop: async () => {
      await stopCli(run, [mountpoint]);
    },
  };
}

/** A new mountpoint and a new cache directory, both removed when the test ends. */
export async function tempMountDirs(t: Teardown): Promise<{ mountpoint: string; cacheDir: string }> {
  return { mountpoint: await testDir(t, 'mnt'), cacheDir: await testDir(t, 'cache') };
}

export interface TempMount {
  daemon: Daemon;
  cacheDir: string;
}

/** Mounts on a new mountpoint with a new cache directory; unmounts and removes both when the test ends. */
export async function mountTemp(
  t: Teardown,
  args: string[],
  options: Pick<CliOptions, 'clockOffsetS' | 'env' | 'built'> = {},
): Promise<TempMount> {
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const daemon = await startDaemon([...args, '--cache-dir', cacheDir], mountpoint, options);
  t.teardown(() => daemon.stop());
  return { daemon, cacheDir };
}
