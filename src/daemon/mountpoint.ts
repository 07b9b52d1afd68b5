// The directory a mount goes on: is it usable, is a dead daemon's mount still on it, and taking a
// mount off it whether or not its daemon still runs.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { findFusermount, FUSERMOUNT_FIX } from '../model/fusermount.js';
import { mountedPaths } from './mount-table.js';

/** The only entry a mountpoint may hold: the repository's placeholder for its default mountpoint. */
const PLACEHOLDER = '.gitkeep';

const run = promisify(execFile);

async function isMountpoint(path: string): Promise<boolean> {
  return (await mountedPaths()).has(path);
}

/** `fusermount -uz`, or `fusermount3 -uz` on a host with fuse3 only. */
async function lazyUnmount(path: string): Promise<void> {
  const program = await findFusermount();
  if (program === undefined) throw new Error(`neither fusermount nor fusermount3 was found: ${FUSERMOUNT_FIX}`);
  try {
    await run(program.path, ['-uz', path]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`${program.name} -uz ${path} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
  }
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
  await lazyUnmount(path);
}

function unusable(path: string, error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case 'ENOENT':
      return new Error(`mountpoint ${path} does not exist: create it first (mkdir -p ${path})`);
    case 'ENOTDIR':
      return new Error(`mountpoint ${path} is not a directory (a path on the way to it is a file)`);
    case 'EACCES':
      return new Error(`mountpoint ${path} is not readable by this user`);
    default:
      return new Error(`mountpoint ${path} is not usable: ${error.code ?? error.message}`);
  }
}

/**
 * Checks the mountpoint is an empty directory, before anything else a mount does; the placeholder
 * alone may stay (mounted with `nonempty`).
 */
export async function checkMountpoint(path: string): Promise<{ allowPlaceholder: boolean }> {
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw unusable(path, error);
  });
  if (!found.isDirectory()) throw new Error(`mountpoint ${path} is not a directory`);
  const entries = await readdir(path).catch((error: NodeJS.ErrnoException) => {
    throw unusable(path, error);
  });
  const others = entries.filter((entry) => entry !== PLACEHOLDER);
  if (others.length > 0) throw new Error(`mountpoint ${path} is not empty`);
  return { allowPlaceholder: entries.length > 0 };
}

/** Clears a stale mount off the mountpoint, then checks it. */
export async function prepareMountpoint(path: string, log: Logger): Promise<{ allowPlaceholder: boolean }> {
  await recoverStaleMount(path, log);
  return checkMountpoint(path);
}

/** Unmounts a mountpoint whose daemon may be gone. */
export async function unmountPath(path: string): Promise<void> {
  const mountpoint = resolve(path);
  if (!(await isMountpoint(mountpoint))) throw new Error(`${mountpoint} is not mounted`);
  await lazyUnmount(mountpoint);
}
