// The data set `npm run bench` loads into the local server: three containers with one hour each of
// a chosen size (1 MiB, 100 MiB and the big hour, each in a namespace of its own so that each cold
// read sweeps only its own day), a little of the big container in every other hour, and 20 other
// pods logging all day.
import { hourRange, dayRange, DAY_MS, HOUR_MS } from '../src/model/time-model.js';
import type { LogEntry } from '../src/demo/sink-tables.js';
import type { LogSource } from '../src/bigquery/query-builder.js';
import type { ContainerRef } from '../src/model/log-path.js';

export const HOUR = 12;

/** The day the benches load their data on: yesterday (UTC), a day already over. */
export function benchDay(): string {
  return new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
}

/** A container-hour's file, relative to the mountpoint. */
export function hourFile(ref: ContainerRef, day: string, hour = HOUR): string {
  return `${ref.namespace}/${ref.pod}/${ref.container}/${day}/${String(hour).padStart(2, '0')}.log`;
}

export interface SizedHour {
  ref: ContainerRef;
  bytes: number;
}

export function sizedHours(bigBytes: number): SizedHour[] {
  const sizes = [2 ** 20, 100 * 2 ** 20].filter((bytes) => bytes < bigBytes).concat(bigBytes);
  return sizes.map((bytes) => ({
    ref: { namespace: `bench-${Math.round(bytes / 2 ** 20)}m`, pod: 'app-7f9c4-x2k9p', container: 'app' },
    bytes,
  }));
}

/** Lines of about 950 bytes, as many as fill `bytes`, spread over the hour. */
export function* hourEntries(day: string, { ref, bytes }: SizedHour): Generator<LogEntry> {
  const start = hourRange(day, HOUR).startMs;
  const padding = 'x'.repeat(900);
  let written = 0;
  for (let n = 0; written < bytes; n++) {
    const textPayload = `${String(n).padStart(9, '0')} level=INFO msg="benchmark line" ${padding}`;
    written += textPayload.length + 1;
    const ms = start + Math.floor((n * 3_599_000) / (bytes / 1000));
    yield {
      ...ref,
      stream: 'stdout',
      timestamp: `${new Date(ms).toISOString().slice(0, 19)}.${String(n % 1_000_000).padStart(6, '0')}Z`,
      insertId: `big-${n}`,
      textPayload,
    };
  }
}

export function* backgroundEntries(day: string, big: ContainerRef): Generator<LogEntry> {
  const { startMs } = dayRange(day);
  for (let pod = 0; pod < 20; pod++) {
    for (let n = 0; n < 24 * 60; n++) {
      const ms = startMs + n * 60_000 + pod * 1000;
      yield {
        namespace: big.namespace,
        pod: `other-${pod}`,
        container: 'app',
        stream: n % 10 === 0 ? 'stderr' : 'stdout',
        timestamp: `${new Date(ms).toISOString().slice(0, 19)}.000001Z`,
        insertId: `o-${pod}-${n}`,
        textPayload: `background line ${n} of pod ${pod}`,
      };
    }
  }
  for (let hour = 0; hour < 24; hour++) {
    if (hour === HOUR) continue;
    for (let n = 0; n < 100; n++) {
      const ms = startMs + hour * HOUR_MS + n * 30_000;
      yield {
        ...big,
        stream: 'stdout',
        timestamp: `${new Date(ms).toISOString().slice(0, 19)}.000000Z`,
        insertId: `small-${hour}-${n}`,
        textPayload: `hour ${hour} line ${n}`,
      };
    }
  }
}

export const PROJECT = 'bench-project';
export const DATASET = 'bench_logs';

/** The bench's tables as the baselines' queries read them. */
export const BENCH_SOURCE: LogSource = {
  projectId: PROJECT,
  datasetId: DATASET,
  layout: 'partitioned',
  tables: (['stdout', 'stderr'] as const).map((stream) => ({
    stream,
    tableId: stream,
    columns: new Set(['timestamp', 'insertId', 'textPayload', 'resource']),
  })),
};

/** A mount's connection to the bench's local server, over both APIs. */
export function mountArgs(server: { url: string; storageAddress: string }): string[] {
  return [
    ...['--project', PROJECT, '--dataset', DATASET, '--api-endpoint', server.url],
    ...['--read-api-endpoint', server.storageAddress, '--log-level', 'warn'],
  ];
}
