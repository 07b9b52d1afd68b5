// What every fault test checks: a read gives exactly the true bytes or fails, and the disk cache
// holds only whole, true files once the daemon has settled.
import { open, readdir, readFile, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { crc32 } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { readToEnd } from './helper-process.js';

export type ReadOutcome = { kind: 'exact' } | { kind: 'error'; code: string } | { kind: 'wrong'; detail: string };

/** A FUSE read that timed out fails with ETIME ("Timer expired"), counted as a time-out. */
const SAME_ERRNO: Record<string, string> = { ETIME: 'ETIMEDOUT' };

/**
 * Reads a file of the mount to its end, as `cat` does, and compares it with the bytes a plain file
 * would hold. The read happens in the helper process, never on this process's thread pool.
 */
export async function readAndCompare(path: string, expected: string | undefined): Promise<ReadOutcome> {
  const read = await readToEnd(path);
  if ('errno' in read) {
    const errno = SAME_ERRNO[read.errno] ?? read.errno;
    if (errno === 'ENOENT' && expected === undefined) return { kind: 'exact' };
    if (errno === 'ENOENT') return { kind: 'wrong', detail: `${path}: ENOENT for a file with entries` };
    return { kind: 'error', code: errno };
  }
  if (expected !== undefined && read.data.equals(Buffer.from(expected))) return { kind: 'exact' };
  const wanted = expected === undefined ? 'no file' : `${Buffer.byteLength(expected)} bytes`;
  return { kind: 'wrong', detail: `${path}: ${read.data.length} bytes, expected ${wanted}` };
}

async function cacheFiles(cacheDir: string): Promise<string[]> {
  const entries = await readdir(cacheDir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Whether the day's manifest vouches for the hour file's bytes as they are (its size and CRC-32): a
 * file it does not vouch for is never served as it is.
 */
async function vouchedFor(path: string, bytes: Buffer): Promise<boolean> {
  const hour = String(Number(basename(path, '.log')));
  const manifest = await readFile(join(dirname(path), 'manifest.json'), 'utf8').catch(() => undefined);
  if (manifest === undefined) return false;
  const { hours, crc32: sums } = JSON.parse(manifest) as {
    hours: Record<string, number>;
    crc32?: Record<string, string>;
  };
  return hours[hour] === bytes.length && sums?.[hour] === crc32(bytes).toString(16).padStart(8, '0');
}

/**
 * Waits until no temporary file is left (a day's fetch may go on after the read that started it),
 * then lists what is wrong with the cache: leftover temporary files, and hour files whose bytes are
 * not the expected ones (only those in `only`, when given). A file of `only` (damaged by the test)
 * may still be wrong if its manifest no longer vouches for it: a read of its hour can end early,
 * before the hour is written again, and the fetch that writes it can then fail.
 */
export async function cacheProblems(
  cacheDir: string,
  files: Map<string, string>,
  only?: Set<string>,
  settleMs = 15_000,
): Promise<string[]> {
  let paths = await cacheFiles(cacheDir);
  for (let waited = 0; paths.some((path) => path.endsWith('.partial')) && waited < settleMs; waited += 100) {
    await sleep(100);
    paths = await cacheFiles(cacheDir);
  }
  const problems: string[] = [];
  for (const path of paths) {
    if (path.endsWith('.partial')) {
      problems.push(`temporary file left: ${path}`);
      continue;
    }
    if (!path.endsWith('.log')) continue;
    // <cacheDir>/<key>/<namespace>/<pod>/<container>/<day>/<HH>.log
    const relativePath = relative(cacheDir, path).split(sep).slice(1).join('/');
    if (only && !only.has(relativePath)) continue;
    const expected = files.get(relativePath);
    const actual = await readFile(path);
    if (expected === undefined || !actual.equals(Buffer.from(expected))) {
      if (only && !(await vouchedFor(path, actual))) continue;
      const wanted = expected === undefined ? 'no file' : Buffer.byteLength(expected);
      problems.push(`cached ${relativePath}: ${actual.length} bytes, expected ${wanted}`);
    }
  }
  return problems;
}

/** Peak resident memory of a process, from /proc, in bytes. */
export async function peakRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kib) * 1024;
}

/**
 * Damages about a third of the cache's hour files on disk, as a disk error or a stray editor would:
 * one byte flipped, or the file cut short. Returns how many files it damaged.
 */
export async function damageCache(cacheDir: string, random: () => number): Promise<number> {
  let damaged = 0;
  for (const path of (await cacheFiles(cacheDir)).filter((file) => file.endsWith('.log')).sort()) {
    const { size } = await stat(path);
    if (size === 0 || random() >= 1 / 3) continue;
    if (random() < 0.5) {
      const at = Math.floor(random() * size);
      const file = await open(path, 'r+');
      try {
        const byte = Buffer.alloc(1);
        await file.read(byte, 0, 1, at);
        byte[0] = byte[0]! ^ 0x20;
        await file.write(byte, 0, 1, at);
      } finally {
        await file.close();
      }
    } else {
      await truncate(path, Math.floor(size / 2));
    }
    damaged++;
  }
  return damaged;
}
