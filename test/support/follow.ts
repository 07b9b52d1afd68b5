// `tail -f` or `tail -F` of a file, from its first line, as a user follows a log.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Follower {
  /** Everything tail printed so far. */
  output(): string;
  /** What tail said on stderr (a file replaced, gone, back). */
  told(): string;
  /** Waits until all tail printed is `text`, or `limitMs` passed; returns the time waited. */
  waitFor(text: string, limitMs: number): Promise<number>;
  stop(): void;
}

/** Follows `file` (relative to `cwd`); tail is stopped when the test ends, if not before. */
export function follow(t: { teardown(fn: () => void): void }, file: string, cwd: string, flag: '-f' | '-F'): Follower {
  const tail = spawn('tail', [flag, '-n', '+1', file], { cwd });
  let followed = '';
  let told = '';
  tail.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
  tail.stderr.on('data', (chunk: Buffer) => (told += chunk.toString()));
  t.teardown(() => void tail.kill());
  return {
    output: () => followed,
    told: () => told,
    waitFor: async (text, limitMs) => {
      const start = Date.now();
      while (followed !== text && Date.now() - start < limitMs) await sleep(100);
      return Date.now() - start;
    },
    stop: () => void tail.kill(),
  };
}
