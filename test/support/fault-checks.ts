// What every fault test checks: a read gives exactly the true bytes or fails, and the disk cache
// holds only whole, true files once the daemon has settled.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv } from './cli-process.js';

export type ReadOutcome = { kind: 'exact' } | { kind: 'error'; code: string } | { kind: 'wrong'; detail: string };

/** Reads a file as `cat` does, to its end; answers with its bytes or the error code. */
const READER_SOURCE = `
const { open } = require('node:fs/promises');
process.on('disconnect', () => process.exit(0));
process.on('message', async ({ id, path }) => {
  let file;
  try {
    file = await open(path, 'r');
    const chunks = [];
    for (;;) {
      const chunk = Buffer.alloc(128 * 1024);
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
    }
    process.send({ id, data: Buffer.concat(chunks) });
  } catch (error) {
    process.send({ id, code: error.code ?? String(error) });
  } finally {
    await file?.close().catch(() => undefined);
  }
});`;

type ReadReply = { id: number; data?: Uint8Array; code?: string };

let reader: ChildProcess | undefined;
let nextReadId = 0;
const waitingReads = new Map<number, (reply: ReadReply) => void>();

/**
 * One helper process does every read of the mount: the reads never tie up this process's thread
 * pool, which the local BigQuery server behind the mount needs, and they do not fork this large
 * process once a read, as running `cat` would. A read that hangs holds one of its many threads.
 */
function readerProcess(): ChildProcess {
  if (reader) return reader;
  const child = spawn(process.execPath, ['-e', READER_SOURCE], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: childEnv({ UV_THREADPOOL_SIZE: '128' }),
  });
  child.on('message', (reply: ReadReply) => {
    waitingReads.get(reply.id)?.(reply);
    waitingReads.delete(reply.id);
  });
  child.on('exit', () => {
    reader = undefined;
    for (const [id, answer] of waitingReads) answer({ id, code: 'reader process exited' });
    waitingReads.clear();
  });
  // Neither the process nor its channel keeps this one alive; it ends when this one does.
  child.unref();
  child.channel?.unref();
  reader = child;
  return child;
}

function readFully(path: string): Promise<ReadReply> {
  const id = nextReadId++;
  return new Promise((resolve) => {
    const child = readerProcess();
    // While reads are waiting, the channel must keep this process alive to receive the answers.
    child.channel?.ref();
    waitingReads.set(id, (reply) => {
      if (waitingReads.size === 1) child.channel?.unref();
      resolve(reply);
    });
    child.send({ id, path });
  });
}

/** `ETIME` is what a FUSE read that timed out returns; `cat` said "Timer expired". */
const SAME_ERRNO: Record<string, string> = { ETIME: 'ETIMEDOUT' };

/** Reads a file of the mount, as `cat` would, and compares it with the bytes a plain file would hold. */
export async function readAndCompare(path: string, expected: string | undefined): Promise<ReadOutcome> {
  const { data, code } = await readFully(path);
  if (code !== undefined) {
    const errno = SAME_ERRNO[code] ?? code;
    if (errno === 'ENOENT' && expected === undefined) return { kind: 'exact' };
    if (errno === 'ENOENT') return { kind: 'wrong', detail: `${path}: ENOENT for a file with entries` };
    return { kind: 'error', code: errno };
  }
  const bytes = Buffer.from(data?.buffer ?? new ArrayBuffer(0), data?.byteOffset, data?.byteLength);
  if (expected !== undefined && bytes.equals(Buffer.from(expected))) return { kind: 'exact' };
  const wanted = expected === undefined ? 'no file' : `${Buffer.byteLength(expected)} bytes`;
  return { kind: 'wrong', detail: `${path}: ${bytes.length} bytes, expected ${wanted}` };
}

async function cacheFiles(cacheDir: string): Promise<string[]> {
  const entries = await readdir(cacheDir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Waits until no temporary file is left (a day's fetch may go on after the read that started it),
 * then lists what is wrong with the cache: leftover temporary files, and hour files whose bytes are
 * not the expected ones.
 */
export async function cacheProblems(
  cacheDir: string,
  files: Map<string, string>,
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
    const expected = files.get(relativePath);
    const actual = await readFile(path);
    if (expected === undefined || !actual.equals(Buffer.from(expected))) {
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
