// The directory a mount goes on: is it usable, is a dead daemon's mount still on it, and taking a
// mount off it whether or not its daemon still runs.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { mountedPaths } from './mount-table.js';

/** The only entry a mountpoint may hold: the repository's placeholder for its default mountpoint. */
const PLACEHOLDER = '.gitkeep';

const run = promisify(execFile);

async function isMountpoint(path: string): Promise<boolean> {
  return (await mountedPaths()).has(path);
}

/** Clears what a crashed daemon left behind ("Transport endpoint is not connected"). */
export async function recoverStaleMount(path: string, log: Logger): Promise<void> {
  if (!(await isMountpoint(path))) return;
  const error = await stat(path).then(
    () => undefined,
    (failure: NodeJS.ErrnoException) => failure,
  );
  if (error?.code !== 'ENOTCONN' && error?.code !== 'ECONNABORTED') {
    throw new Error(`${path} is already mounted; unmount it first (bqlogfs unmount ${path})`);
  }
  log.warn({ mountpoint: path }, 'recovering a stale mount left by a crashed daemon');
  await run('fusermount', ['-uz', path]);
}

/** Checks the mountpoint is an empty directory; the placeholder alone may stay (mounted with `nonempty`). */
export async function checkMountpoint(path: string): Promise<{ allowPlaceholder: boolean }> {
  const entries = await readdir(path).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`mountpoint ${path} is not usable: ${error.code ?? error.message}`);
  });
  const others = entries.filter((entry) => entry !== PLACEHOLDER);
  if (others.length > 0) throw new Error(`mountpoint ${path} is not empty`);
  return { allowPlaceholder: entries.length > 0 };
}

/** Unmounts a mountpoint whose daemon may be gone. */
export async function unmountPath(path: string): Promise<void> {
  await run('fusermount', ['-uz', resolve(path)]);
}
