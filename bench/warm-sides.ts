// The warm re-read of one finished hour, as `npm run bench` and bench/warm-read.ts measure it: the
// same `cat` loop through the mount, on the cached file as a plain file, and on it through bindfs
// -o kernel_cache (a C passthrough FUSE file system that keeps the page cache across opens, as the
// mount does: what FUSE itself costs on this kernel, whoever serves it). Each sample repeats the
// `cat` so that it reads about 256 MiB; each side goes first in turn.
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { removeDir, tempDir } from '../test/support/daemon.js';
import { shOk } from '../test/support/shell.js';
import { timed } from './measure.js';

export type WarmSide = 'mount' | 'plain file' | 'bindfs';

export async function measureWarm(options: {
  /** Where the mount is, and the hour's path in it. */
  mountpoint: string;
  hourPath: string;
  /** The hour's file in the mount's cache. */
  cachedFile: string;
  runs: number;
  sample: (side: WarmSide, ms: number) => void;
}): Promise<{ size: number; repeat: number }> {
  const { mountpoint, hourPath, cachedFile } = options;
  const size = (await stat(cachedFile)).size;
  const repeat = Math.max(1, Math.round(2 ** 28 / size));
  const loop = (path: string) => `for i in $(seq ${repeat}); do cat ${path} > /dev/null; done`;
  const bindMount = await tempDir('bench-bindfs');
  await shOk(`bindfs -o kernel_cache ${resolve(cachedFile, '..')} ${bindMount}`);
  const bound = join(bindMount, basename(cachedFile));
  try {
    // The fetch's cache files are flushed first: their writeback slowed both sides' first samples by up to 3×.
    await shOk(`sync; ${loop(hourPath)}; ${loop(cachedFile)}; ${loop(bound)}`, mountpoint);
    const sides: [WarmSide, string, string | undefined][] = [
      ['mount', loop(hourPath), mountpoint],
      ['plain file', loop(cachedFile), undefined],
      ['bindfs', loop(bound), undefined],
    ];
    for (let run = 0; run < options.runs; run++) {
      // Each side goes first in turn, so none always follows another's cache misses.
      for (let side = 0; side < sides.length; side++) {
        const [name, command, cwd] = sides[(run + side) % sides.length]!;
        options.sample(name, await timed(() => shOk(command, cwd)));
      }
    }
  } finally {
    await shOk(`fusermount -u ${bindMount}`);
    await removeDir(bindMount);
  }
  return { size, repeat };
}
