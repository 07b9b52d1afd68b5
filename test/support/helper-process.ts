// A small helper process that reads files of the mount and runs shell commands for the tests.
//
// Why not here: a read of the mount blocks a thread until the daemon answers, and the daemon may be
// waiting on the local BigQuery server in this process, which needs this process's thread pool; and
// a test process holding that server is large, so forking it for every `cat` or `bash -c` costs tens
// of milliseconds of kernel time each. The helper is plain node, small, with a thread pool big enough
// for reads that hang, and it ends when this process does.
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from './cli-process.js';

const HELPER_SOURCE = `
const { spawn } = require('node:child_process');
const { open } = require('node:fs/promises');

/** Reads a file as cat does: to its end, whatever size it claimed. */
async function read(path) {
  const file = await open(path, 'r');
  try {
    const chunks = [];
    for (;;) {
      const chunk = Buffer.alloc(128 * 1024);
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks);
      chunks.push(chunk.subarray(0, bytesRead));
    }
  } finally {
    await file.close().catch(() => undefined);
  }
}

const commandEnv = { ...process.env };
delete commandEnv.UV_THREADPOOL_SIZE;

function run(command, cwd) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd, env: commandEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    child.on('error', (error) => resolve({ stdout: Buffer.alloc(0), stderr: Buffer.from(String(error)), code: 1 }));
    child.on('close', (code) => resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), code: code ?? 1 }));
  });
}

process.on('disconnect', () => process.exit(0));
process.on('message', async ({ id, read: path, run: command, cwd }) => {
  try {
    process.send({ id, ...(path !== undefined ? { data: await read(path) } : await run(command, cwd)) });
  } catch (error) {
    process.send({ id, errno: error.code ?? String(error) });
  }
});`;

interface HelperReply {
  id: number;
  data?: Uint8Array;
  errno?: string;
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  code?: number;
}

let helper: ChildProcess | undefined;
let nextId = 0;
const waiting = new Map<number, (reply: HelperReply) => void>();

function helperProcess(): ChildProcess {
  if (helper) return helper;
  const child = spawn(process.execPath, ['-e', HELPER_SOURCE], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: childEnv({ UV_THREADPOOL_SIZE: '128', LC_ALL: 'C.UTF-8' }),
  });
  child.on('message', (reply: HelperReply) => {
    const answer = waiting.get(reply.id);
    waiting.delete(reply.id);
    // The channel keeps this process alive only while answers are due.
    if (waiting.size === 0) child.channel?.unref();
    answer?.(reply);
  });
  child.on('exit', () => {
    helper = undefined;
    for (const [id, answer] of waiting) answer({ id, errno: 'the helper process exited' });
    waiting.clear();
  });
  child.unref();
  child.channel?.unref();
  helper = child;
  return child;
}

function ask(request: { read: string } | { run: string; cwd?: string }): Promise<HelperReply> {
  const id = nextId++;
  const child = helperProcess();
  child.channel?.ref();
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    child.send({ id, ...request });
  });
}

function bufferOf(bytes: Uint8Array | undefined): Buffer {
  return bytes === undefined ? Buffer.alloc(0) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A file's bytes, read to its end as `cat` reads it, or the error code of the read. */
export async function readToEnd(path: string): Promise<{ data: Buffer } | { errno: string }> {
  const { data, errno } = await ask({ read: path });
  return errno !== undefined ? { errno } : { data: bufferOf(data) };
}

/** Runs `bash -c command`; its exit code is 1 if a signal ended it. */
export async function runShell(
  command: string,
  cwd?: string,
): Promise<{ stdout: Buffer; stderr: Buffer; code: number }> {
  const { stdout, stderr, code, errno } = await ask({ run: command, ...(cwd !== undefined && { cwd }) });
  if (errno !== undefined) return { stdout: Buffer.alloc(0), stderr: Buffer.from(errno), code: 1 };
  return { stdout: bufferOf(stdout), stderr: bufferOf(stderr), code: code ?? 1 };
}
