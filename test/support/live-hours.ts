// Hours that are still filling, for the tests that insert entries while a daemon follows them: which
// hour file an instant falls in, the next hour boundary to set a daemon's clock before, and the
// order of entries in a finished hour file.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogEntry } from '../../src/demo/sink-tables.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** `YYYY-MM-DD/HH.log` of the UTC hour an instant falls in. */
export function hourFile(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)}/${iso.slice(11, 13)}.log`;
}

/** The next hour boundary at least 90 s away, not a UTC midnight. */
export function nextBoundary(): number {
  const boundary = Math.ceil((Date.now() + 90_000) / HOUR_MS) * HOUR_MS;
  return boundary % DAY_MS === 0 ? boundary + HOUR_MS : boundary;
}

/** BigQuery's order of an hour file: timestamp, insertId, stream (all ASCII here, timestamps of one form). */
export function fileOrder(a: LogEntry, b: LogEntry): number {
  const compare = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return compare(a.timestamp, b.timestamp) || compare(a.insertId, b.insertId) || compare(a.stream, b.stream);
}

/** Polls `look` until it returns `expected` or `limitMs` passes; returns the last answer. */
export async function waitUntil(
  look: () => string | Promise<string>,
  expected: string,
  limitMs: number,
): Promise<string> {
  const start = Date.now();
  let seen = await look();
  while (seen !== expected && Date.now() - start < limitMs) {
    await sleep(200);
    seen = await look();
  }
  return seen;
}

/** Entries inserted one batch at a time, as they are in the sink tables and as a follower sees them. */
export class LiveInserts {
  /** Every entry inserted so far. */
  readonly inserted: LogEntry[] = [];
  /** The entries of every insert so far, each insert's in file order: the order a refresh appends them. */
  readonly arrived: LogEntry[] = [];

  constructor(
    private readonly insertEntries: (entries: LogEntry[]) => Promise<unknown>,
    private readonly entry: Omit<LogEntry, 'timestamp' | 'insertId' | 'textPayload'>,
  ) {}

  /** Inserts one entry per `[ms, insertId]`, its line `line <insertId>`. */
  async insert(stamps: [ms: number, insertId: string][]): Promise<void> {
    const entries = stamps.map(([ms, insertId]) => ({
      ...this.entry,
      timestamp: new Date(ms).toISOString(),
      insertId,
      textPayload: `line ${insertId}`,
    }));
    await this.insertEntries(entries);
    this.inserted.push(...entries);
    this.arrived.push(...[...entries].sort(fileOrder));
  }
}
