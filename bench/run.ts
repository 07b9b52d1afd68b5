// `npm run bench`: the cost and speed ratios of issue #3's table, each measured side by side in one
// run, printed as one table and written to docs/performance.md with a description of the machine.
//
//   npm run bench                   # 1 GiB hour (the goal's size)
//   npm run bench -- --hour-mib 64  # quicker
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { BigQuery } from '@google-cloud/bigquery';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { entriesQuery, type LogSource } from '../src/bigquery/query-builder.js';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { dayRange, hourRange, HOUR_MS, DAY_MS } from '../src/model/time-model.js';
import { removeDir, startDaemon, tempDir, type Daemon } from '../test/support/daemon.js';
import { sh, shOk } from '../test/support/shell.js';

const PROJECT = 'bench-project';
const DATASET = 'bench_logs';
const BIG = { namespace: 'bench', pod: 'big-7f9c4-x2k9p', container: 'app' };
const BIG_HOUR = 12;
const RUNS = 3;

const { values } = parseArgs({
  options: { 'hour-mib': { type: 'string', default: '1024' }, 'no-write': { type: 'boolean', default: false } },
});
const hourBytes = Number(values['hour-mib']) * 2 ** 20;
const day = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function* bigHourEntries(): Generator<LogEntry> {
  const start = hourRange(day, BIG_HOUR).startMs;
  const padding = 'x'.repeat(900);
  let written = 0;
  for (let n = 0; written < hourBytes; n++) {
    const textPayload = `${String(n).padStart(9, '0')} level=INFO msg="benchmark line" ${padding}`;
    written += textPayload.length + 1;
    const ms = start + Math.floor((n * 3_599_000) / (hourBytes / 1000));
    yield {
      ...BIG,
      stream: 'stdout',
      timestamp: `${new Date(ms).toISOString().slice(0, 19)}.${String(n % 1_000_000).padStart(6, '0')}Z`,
      insertId: `big-${n}`,
      textPayload,
    };
  }
}

function* backgroundEntries(): Generator<LogEntry> {
  const { startMs } = dayRange(day);
  for (let pod = 0; pod < 20; pod++) {
    for (let n = 0; n < 24 * 60; n++) {
      const ms = startMs + n * 60_000 + pod * 1000;
      yield {
        namespace: 'bench',
        pod: `other-${pod}`,
        container: 'app',
        stream: n % 10 === 0 ? 'stderr' : 'stdout',
        timestamp: `${new Date(ms).toISOString().slice(0, 19)}.000001Z`,
        insertId: `o-${pod}-${n}`,
        textPayload: `background line ${n} of pod ${pod}`,
      };
    }
  }
  // The big container logs a little in every other hour too.
  for (let hour = 0; hour < 24; hour++) {
    if (hour === BIG_HOUR) continue;
    for (let n = 0; n < 100; n++) {
      const ms = startMs + hour * HOUR_MS + n * 30_000;
      yield {
        ...BIG,
        stream: 'stdout',
        timestamp: `${new Date(ms).toISOString().slice(0, 19)}.000000Z`,
        insertId: `small-${hour}-${n}`,
        textPayload: `hour ${hour} line ${n}`,
      };
    }
  }
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

interface MountStatsJson {
  queries: number;
  queriesRunning: number;
  bytesBilled: number;
}

/** The mount's statistics once every query it started has ended (a day's fetch outlives its first hour). */
async function stats(daemon: Daemon): Promise<MountStatsJson> {
  for (;;) {
    await sleep(1100); // the kernel keeps a file's attributes for a second
    const current = JSON.parse(await readFile(join(daemon.mountpoint, '.bqlogfs/stats'), 'utf8')) as MountStatsJson;
    if (current.queriesRunning === 0) return current;
  }
}

/** The bare client doing the same work without bqlogfs: same query, pages written to a file. */
async function bareClientFetch(client: BigQuery, source: LogSource, outPath: string): Promise<void> {
  const query = entriesQuery(source, BIG, dayRange(day), hourRange(day, BIG_HOUR));
  const [job] = await client.createQueryJob({ query: query.sql, params: query.params, types: query.types });
  const out = createWriteStream(outPath);
  let pageToken: string | undefined;
  do {
    const [rows, , response] = await job.getQueryResults({
      autoPaginate: false,
      maxResults: 10_000,
      ...(pageToken && { pageToken }),
    });
    for (const row of rows as { textPayload: string | null }[]) out.write(`${row.textPayload ?? ''}\n`);
    pageToken = (response as { pageToken?: string } | undefined)?.pageToken;
  } while (pageToken);
  await new Promise<void>((done) => out.end(done));
}

async function main(): Promise<void> {
  await shOk('command -v bindfs >/dev/null || (apt-get update -qq && apt-get install -y -qq bindfs >/dev/null)');
  const emulator = await startEmulator({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);
  process.stderr.write(`loading ${values['hour-mib']} MiB hour + background into the local server…\n`);
  await createSinkTables(client, DATASET, 'partitioned', [day], []);
  const loadMs = await timed(async () => {
    await insertEntries(client, DATASET, 'partitioned', bigHourEntries(), 2000);
    await insertEntries(client, DATASET, 'partitioned', backgroundEntries(), 2000);
  });
  process.stderr.write(`loaded in ${(loadMs / 1000).toFixed(1)} s\n`);

  const source: LogSource = {
    projectId: PROJECT,
    datasetId: DATASET,
    layout: 'partitioned',
    tables: (['stdout', 'stderr'] as const).map((stream) => ({
      stream,
      tableId: stream,
      columns: new Set(['timestamp', 'insertId', 'textPayload', 'resource']),
    })),
  };
  const args = ['--project', PROJECT, '--dataset', DATASET, '--api-endpoint', emulator.url, '--log-level', 'warn'];
  const relative = `${BIG.namespace}/${BIG.pod}/${BIG.container}/${day}/${String(BIG_HOUR).padStart(2, '0')}.log`;
  const work = await tempDir('bench');
  const rows: { measure: string; compared: string; value: string; goal: string; met: boolean }[] = [];

  // 3 and 5: cold fetch through the mount vs the bare client, and the daemon's peak RSS meanwhile.
  const coldMount: number[] = [];
  const coldBare: number[] = [];
  let rss = 0;
  let cacheDir = '';
  for (let run = 0; run < RUNS; run++) {
    cacheDir = await tempDir('bench-cache');
    const mountpoint = await tempDir('bench-mnt');
    const daemon = await startDaemon([...args, '--cache-dir', cacheDir], mountpoint);
    coldMount.push(await timed(() => shOk(`cat ${relative} > /dev/null`, mountpoint)));
    await stats(daemon);
    rss = Math.max(rss, await peakRssMiB(daemon.process.pid ?? 0));
    await daemon.stop();
    await removeDir(mountpoint);
    coldBare.push(await timed(() => bareClientFetch(client, source, join(work, 'bare.log'))));
    if (run < RUNS - 1) await removeDir(cacheDir);
  }
  const coldRatio = median(coldMount) / median(coldBare);

  // The cache directory of the last run holds the hour now.
  const cachedFile = (await shOk(`find ${cacheDir} -name '${String(BIG_HOUR).padStart(2, '0')}.log'`)).trim();
  const size = (await stat(cachedFile)).size;

  // 2: first read of a cached hour through a fresh mount vs bindfs over the cached file.
  const firstMount: number[] = [];
  const firstBindfs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const mountpoint = await tempDir('bench-mnt');
    const daemon = await startDaemon([...args, '--cache-dir', cacheDir], mountpoint);
    await shOk(`cat ${cachedFile} > /dev/null`);
    firstMount.push(await timed(() => shOk(`cat ${relative} > /dev/null`, mountpoint)));
    const queriesAfterRestart = (await stats(daemon)).queries;
    if (queriesAfterRestart !== 0) process.stderr.write(`warning: ${queriesAfterRestart} queries after restart\n`);
    await daemon.stop();
    const bindMount = await tempDir('bench-bindfs');
    await shOk(`bindfs ${resolve(cachedFile, '..')} ${bindMount}`);
    firstBindfs.push(await timed(() => shOk(`cat ${bindMount}/${String(BIG_HOUR).padStart(2, '0')}.log > /dev/null`)));
    await shOk(`fusermount -u ${bindMount}`);
    await removeDir(bindMount);
    await removeDir(mountpoint);
  }
  const firstRatio = median(firstMount) / median(firstBindfs);

  // 1: warm re-read through the mount vs the same bytes in a plain local file.
  const mountpoint = await tempDir('bench-mnt');
  let daemon = await startDaemon([...args, '--cache-dir', cacheDir], mountpoint);
  await shOk(`cat ${relative} > /dev/null; cat ${cachedFile} > /dev/null`, mountpoint);
  const warmMount: number[] = [];
  const warmPlain: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    warmMount.push(await timed(() => shOk(`cat ${relative} > /dev/null`, mountpoint)));
    warmPlain.push(await timed(() => shOk(`cat ${cachedFile} > /dev/null`)));
  }
  const warmRatio = median(warmMount) / median(warmPlain);
  await daemon.stop();

  // 4: bytes billed for all 24 hours of the container-day vs one hour, from a cold cache.
  const billCache = await tempDir('bench-cache');
  daemon = await startDaemon([...args, '--cache-dir', billCache], mountpoint);
  const dir = `${BIG.namespace}/${BIG.pod}/${BIG.container}/${day}`;
  await shOk(`cat ${dir}/03.log > /dev/null`, mountpoint);
  const oneHour = (await stats(daemon)).bytesBilled;
  await shOk(`cat ${dir}/*.log > /dev/null`, mountpoint);
  const allHours = (await stats(daemon)).bytesBilled;
  await daemon.stop();
  // The contrast: what a query per hour file would bill.
  let perHourQueries = 0;
  for (let hour = 0; hour < 24; hour++) {
    const range = hourRange(day, hour);
    const query = entriesQuery(source, BIG, range, range);
    const [job] = await client.createQueryJob({ query: query.sql, params: query.params, types: query.types });
    await job.getQueryResults({ maxResults: 1 });
    const [metadata] = await job.getMetadata();
    perHourQueries += Number(
      (metadata as { statistics?: { query?: { totalBytesBilled?: string } } }).statistics?.query?.totalBytesBilled ?? 0,
    );
  }
  const billRatio = allHours / oneHour;

  // 6: queries sent when 32 readers open one cold file at once.
  const concurrentCache = await tempDir('bench-cache');
  daemon = await startDaemon([...args, '--cache-dir', concurrentCache], mountpoint);
  const readers = Array.from({ length: 32 }, () => sh(`cat ${dir}/05.log > /dev/null`, mountpoint));
  await Promise.all(readers);
  const concurrentQueries = (await stats(daemon)).queries;
  await daemon.stop();
  for (const path of [billCache, concurrentCache, cacheDir, mountpoint, work]) await removeDir(path);
  await emulator.close();

  const mib = (size / 2 ** 20).toFixed(0);
  rows.push(
    {
      measure: `Warm re-read of a finished ${mib} MiB hour through the mount`,
      compared: 'the same bytes in a plain local file',
      value: warmRatio.toFixed(2),
      goal: '≤ 1.3',
      met: warmRatio <= 1.3,
    },
    {
      measure: 'First read of an hour already in the disk cache, through the mount',
      compared: 'bindfs (C passthrough FUSE) over the cached file',
      value: firstRatio.toFixed(2),
      goal: '≤ 1.5',
      met: firstRatio <= 1.5,
    },
    {
      measure: 'Cold fetch of an hour (local server)',
      compared: 'the bare @google-cloud/bigquery client, same query, into a file',
      value: coldRatio.toFixed(2),
      goal: '≤ 1.0',
      met: coldRatio <= 1.0,
    },
    {
      measure: 'Bytes billed for all 24 hours of a container-day',
      compared: `one hour of it (a query per hour would bill ${(perHourQueries / oneHour).toFixed(1)}×)`,
      value: billRatio.toFixed(2),
      goal: '≤ 1.05',
      met: billRatio <= 1.05,
    },
    {
      measure: `Peak RSS of the daemon while fetching and reading a ${mib} MiB hour`,
      compared: '—',
      value: `${rss.toFixed(0)} MB`,
      goal: '≤ 200 MB',
      met: rss <= 200,
    },
    {
      measure: 'Queries sent when 32 concurrent readers open one cold file',
      compared: '—',
      value: String(concurrentQueries),
      goal: '1',
      met: concurrentQueries === 1,
    },
  );
  const details = [
    `cold fetch: mount ${coldMount.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s; bare client ${coldBare.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`,
    `first read from disk cache: mount ${firstMount.map((ms) => ms.toFixed(0)).join(', ')} ms; bindfs ${firstBindfs.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    `warm re-read: mount ${warmMount.map((ms) => ms.toFixed(0)).join(', ')} ms; plain file ${warmPlain.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    `bytes billed: one hour ${oneHour}, all 24 hours ${allHours}, 24 hour-queries ${perHourQueries}`,
    `load of the data set into the local server: ${(loadMs / 1000).toFixed(1)} s`,
  ];
  const table = [
    '| Measure | Compared with | Result | Goal | Met |',
    '|---|---|---|---|---|',
    ...rows.map(
      (row) => `| ${row.measure} | ${row.compared} | ${row.value} | ${row.goal} | ${row.met ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
  process.stdout.write(`${table}\n\n${details.map((line) => `- ${line}`).join('\n')}\n`);

  if (!values['no-write']) {
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${(await shOk('uname -sr')).trim()}`;
    const command = `npm run bench -- --hour-mib ${values['hour-mib']}`;
    const doc = await readFile('docs/performance.md', 'utf8').catch(() => '');
    const marker = '<!-- bench:results -->';
    const section = `${marker}\nMeasured ${new Date().toISOString().slice(0, 16)}Z with \`${command}\` on ${machine}. Each ratio is a median of ${RUNS} runs of both sides, measured alternately in the same run.\n\n${table}\n\n${details.map((line) => `- ${line}`).join('\n')}\n${marker}`;
    const updated = doc.includes(marker)
      ? doc.replace(new RegExp(`${marker}[\\s\\S]*${marker}`), section)
      : `${doc}\n${section}\n`;
    await mkdir('docs', { recursive: true });
    await writeFile('docs/performance.md', updated);
  }
  await sleep(10);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
