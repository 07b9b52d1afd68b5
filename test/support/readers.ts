// A `cat` of a file of the mount, and how to tell that it sleeps in the kernel on an unanswered FUSE
// request: for the tests that kill readers while their request waits for BigQuery.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Reader {
  child: ChildProcess;
  output: Buffer[];
  /** The time of its exit (Date.now()), once it has exited. */
  exited: Promise<number>;
}

export function startCat(path: string): Reader {
  const child = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] });
  const output: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  const exited = new Promise<number>((resolve) => child.on('close', () => resolve(Date.now())));
  return { child, output, exited };
}

/** Waits until the process sleeps in the kernel on an unanswered FUSE request (10 s at most). */
export async function waitsOnFuse(pid: number): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const wchan = await readFile(`/proc/${pid}/wchan`, 'utf8').catch(() => '');
    if (wchan === 'request_wait_answer') return true;
    await sleep(50);
  }
  return false;
}

/**
 * The daemon's `mounted` log line, which it writes just after the mount shows in /proc/mounts (so
 * a test that has only waited for the mount may not see it yet). Waits up to 10 s for it.
 */
export async function mountedLine(daemon: { logs(): string }): Promise<string | undefined> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const line = daemon.logs().match(/^.*"msg":"mounted".*$/m)?.[0];
    if (line !== undefined) return line;
    await sleep(50);
  }
  return undefined;
}

/** Whether the daemon mounted with interrupts on (the patched fuse-native), as its `mounted` line says. */
export async function mountedInterruptible(daemon: { logs(): string }): Promise<boolean | undefined> {
  const line = await mountedLine(daemon);
  return line === undefined ? undefined : /"interruptible":true/.test(line);
}
