// For tests of hours too big for the daemon to hold: a local server loaded with generated entries
// through the real client, the digest of a file read in chunks, and a workload's merged hour.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import { emulatorClient } from '../../src/emulator/client.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { createSinkTables, insertEntries, type LogEntry } from '../../src/demo/sink-tables.js';

import { serverArgs } from './cli-process.js';
import { mountTemp } from './daemon.js';
import { peakRssBytes } from './fault-checks.js';
import { sh } from './shell.js';

type Teardown = { teardown(fn: () => Promise<void>): void };

export const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The UTC day before yesterday: its first millisecond, and its name (YYYY-MM-DD). */
export function dayBeforeYesterday(): { startMs: number; name: string } {
  const startMs = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
  return { startMs, name: new Date(startMs).toISOString().slice(0, 10) };
}

/** The timestamp of entry `n` of `count` spread over an hour of a day, each at a microsecond of its own. */
export function timestampInHour(dayStartMs: number, hour: number, n: number, count: number): string {
  const micros = (dayStartMs + hour * HOUR_MS) * 1000 + Math.floor((n * (HOUR_MS * 1000 - 1)) / count);
  const iso = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  return `${iso}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/** A local server with partitioned sink tables for `day`, holding `entries`; closed when the test ends. */
export async function serverWith(
  t: Teardown,
  project: string,
  dataset: string,
  day: string,
  entries: Iterable<LogEntry>,
): Promise<{ emulator: Emulator; client: BigQuery }> {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, project);
  await createSinkTables(client, dataset, 'partitioned', [day], []);
  await insertEntries(client, dataset, 'partitioned', entries, 5000);
  return { emulator, client };
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A workload's hour, from its pods' entries: merged by (time, insertId, stream, pod), each line prefixed with its pod. */
export function mergedWorkloadHour(entries: Iterable<LogEntry>): { sha256: string; bytes: number } {
  const rows: Array<{ micros: bigint; entry: LogEntry }> = [];
  for (const entry of entries) {
    const [seconds = '', fraction = ''] = entry.timestamp.slice(0, -1).split('.');
    rows.push({ micros: BigInt(Date.parse(`${seconds}Z`)) * 1000n + BigInt(fraction), entry });
  }
  const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  rows.sort(
    (a, b) =>
      (a.micros < b.micros ? -1 : a.micros > b.micros ? 1 : 0) ||
      byBytes(a.entry.insertId, b.entry.insertId) ||
      byBytes(a.entry.stream, b.entry.stream) ||
      byBytes(a.entry.pod, b.entry.pod),
  );
  const hash = createHash('sha256');
  let bytes = 0;
  for (const { entry } of rows) {
    const line = Buffer.from(`${entry.pod} ${entry.textPayload}\n`);
    hash.update(line);
    bytes += line.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

interface Assertions extends Teardown {
  equal(found: unknown, wanted: unknown, message: string): void;
  ok(value: unknown, message: string): void;
  comment(message: string): void;
}

/**
 * Mounts the local server with Storage Read API streams breaking or ending early at random, and
 * checks the workload hour file at `path` (under the mountpoint) against `expected`, byte for byte,
 * with the daemon still running after it.
 */
export async function checkMergedHour(
  t: Assertions,
  emulator: Emulator,
  project: string,
  dataset: string,
  path: string[],
  expected: { sha256: string; bytes: number },
  seed: number,
): Promise<{ cacheDir: string }> {
  emulator.faults.set({
    seed,
    rules: [
      { endpoint: 'storage.readRows', kind: 'streamReset', afterBatches: 1, probability: 0.15 },
      { endpoint: 'storage.readRows', kind: 'streamEnd', afterBatches: 1, probability: 0.1 },
    ],
  });
  const { daemon, cacheDir } = await mountTemp(t, serverArgs(emulator, project, dataset));
  const file = join(daemon.mountpoint, ...path);
  const size = await sh(`stat -c %s '${file}'`);
  t.equal(size.stdout.trim(), String(expected.bytes), 'st_size is the merged hour’s size');
  t.equal(await sha256Of(file), expected.sha256, 'the bytes are the merge of the pods’ rows');
  t.equal(daemon.process.exitCode, null, 'the daemon is still running');
  const { injected } = emulator.faults.stats();
  t.ok(injected > 0, `${injected} streams were cut short`);
  t.comment(`the daemon's peak RSS: ${((await peakRssBytes(daemon.process.pid!)) / 2 ** 20).toFixed(0)} MiB`);
  return { cacheDir };
}
