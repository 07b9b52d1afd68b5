// `npm run bench`: speed and cost ratios, each measured side by side in one run, printed as one
// table and written to docs/performance.md with a description of the machine.
//
//   npm run bench                   # 1 GiB hour (the goal's size)
//   npm run bench -- --hour-mib 256 # quicker
import { readFile, stat, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { emulatorClient } from '../src/emulator/client.js';
import { startLocalServer } from './local-server.js';
import { builtCli } from './built-cli.js';
import { removeDir, startDaemon, tempDir, type Daemon } from '../test/support/daemon.js';
import { sh, shOk } from '../test/support/shell.js';
import { naiveScript, physicalLimit, sameQueryOverRest } from './baselines.js';
import { networkTo } from './latency-proxy.js';
import {
  backgroundEntries,
  BENCH_SOURCE,
  DATASET,
  benchDay,
  HOUR,
  hourEntries,
  hourFile,
  mountArgs,
  PROJECT,
  sizedHours,
  type SizedHour,
} from './data.js';
import { Report } from './report.js';
import { peakRssMiB, settledTimed, settleWrites, timed } from './measure.js';
import { measureWarm } from './warm-sides.js';

/** What a request to BigQuery costs in round trip from a machine outside Google's network. */
const LATENCY_MS = 150;
/** A network round trip between the machine and BigQuery, through latency-proxy.ts. */
const RTT_MS = 20;
/**
 * `head -n 20` and `tail -n 20` of a cold hour against a cold `cat` of it: the first lines are read
 * as soon as they are written, the last ones from the hour's last entries, once the sweep has run
 * (docs/design.md, "Why sizes are always true").
 */
const FIRST_LINES_GOAL = 0.5;

const { values } = parseArgs({
  options: {
    'hour-mib': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const built = await builtCli();
/** Warm re-reads take well under a second each and vary more than the goal's margin: more samples. */
const WARM_RUNS = Math.max(RUNS, 7);
const hours = sizedHours(Number(values['hour-mib']) * 2 ** 20);
const big = hours[hours.length - 1]!;
const mid = hours.find((hour) => hour.bytes === 100 * 2 ** 20) ?? big;
const day = benchDay();
const report = new Report(RUNS);

interface MountStatsJson {
  queries: number;
  queriesRunning: number;
  bytesBilled: number;
}

/** The mount's statistics once every query it started has ended (a day's fetch outlives its first hour). */
async function settled(daemon: Daemon): Promise<MountStatsJson> {
  for (;;) {
    await sleep(1100);
    const current = JSON.parse(await readFile(join(daemon.mountpoint, '.bqlogfs/stats'), 'utf8')) as MountStatsJson;
    if (current.queriesRunning === 0) return current;
  }
}

function hourPath({ ref }: SizedHour, hour = HOUR): string {
  return hourFile(ref, day, hour);
}

async function main(): Promise<void> {
  await shOk('command -v bindfs >/dev/null || (apt-get update -qq && apt-get install -y -qq bindfs >/dev/null)');
  const emulator = await startLocalServer({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  process.stderr.write(`loading hours of ${hours.map((hour) => mib(hour.bytes)).join(', ')} into the local server…\n`);
  await createSinkTables(client, DATASET, 'partitioned', [day], []);
  const loadMs = await timed(async () => {
    for (const hour of hours) await insertEntries(client, DATASET, 'partitioned', hourEntries(day, hour), 2000);
    await insertEntries(client, DATASET, 'partitioned', backgroundEntries(day, big.ref), 2000);
  });
  report.note(`load of the data set into the local server: ${(loadMs / 1000).toFixed(1)} s`);

  const source = BENCH_SOURCE;
  const args = mountArgs(emulator);
  const work = await tempDir('bench');
  const out = join(work, 'out.log');
  const caches: string[] = [];

  /** A cold `cat` of the hour on a fresh mount with an empty cache; the daemon's peak RSS meanwhile. */
  async function coldCat(hour: SizedHour, extraArgs: string[] = [], command = 'cat', mountArgsOf = args) {
    const cacheDir = await tempDir('bench-cache');
    caches.push(cacheDir);
    const mountpoint = await tempDir('bench-mnt');
    const daemon = await startDaemon([...mountArgsOf, '--cache-dir', cacheDir, ...extraArgs], mountpoint, { built });
    await settleWrites();
    const ms = await timed(() => shOk(`${command} ${hourPath(hour)} > /dev/null`, mountpoint));
    const stats = await settled(daemon);
    // The rest of the day is still being read from the kept result: the cache is complete once the
    // container-day's manifest is written.
    while ((await sh(`find ${cacheDir} -path "*${hour.ref.namespace}*" -name manifest.json | grep -q .`)).code !== 0)
      await sleep(500);
    const rss = await peakRssMiB(daemon.process.pid ?? 0);
    await daemon.stop();
    await removeDir(mountpoint);
    return { ms, rss, cacheDir, bytesBilled: stats.bytesBilled };
  }

  // Cold fetches, each against what a user would do instead, alternating run by run.
  let rss = 0;
  let bytesBilledStorage = 0;
  const networks = [
    { latency: 0, rttMs: 0, suffix: '' },
    { latency: LATENCY_MS, rttMs: 0, suffix: `, ${LATENCY_MS} ms per request` },
    { latency: 0, rttMs: RTT_MS, suffix: `, ${RTT_MS} ms round trip` },
  ];
  for (const { latency, rttMs, suffix } of networks) {
    emulator.faults.set({ latencyMs: latency, rules: [] });
    const network = await networkTo(emulator, rttMs);
    const runs = suffix ? Math.min(RUNS, 2) : RUNS;
    for (let run = 0; run < runs; run++) {
      const mount = await coldCat(big, [], 'cat', mountArgs(network.server));
      rss = Math.max(rss, mount.rss);
      bytesBilledStorage = mount.bytesBilled;
      report.sample(`cold ${mib(big.bytes)}${suffix}`, 'mount', mount.ms);
      report.sample(
        `cold ${mib(big.bytes)}${suffix}`,
        'same query, REST pages',
        await settledTimed(() => sameQueryOverRest(network.client, source, big.ref, day, out)),
      );
      report.sample(
        `cold ${mib(big.bytes)}${suffix}`,
        'textPayload script',
        await settledTimed(() => naiveScript(network.client, big.ref, day, out)),
      );
      if (!suffix) {
        report.sample(
          `cold ${mib(big.bytes)}`,
          'DuckDB COPY',
          await settledTimed(() => physicalLimit(emulator, PROJECT, big.ref, day, out)),
        );
        // Time to the first and the last lines of the same cold hour, each through a fresh mount.
        report.sample(`cold ${mib(big.bytes)}`, 'head -n 20', (await coldCat(big, [], 'head -n 20')).ms);
        report.sample(`cold ${mib(big.bytes)}`, 'tail -n 20', (await coldCat(big, [], 'tail -n 20')).ms);
        if (mid !== big) {
          report.sample(`cold ${mib(mid.bytes)}`, 'mount', (await coldCat(mid)).ms);
          report.sample(
            `cold ${mib(mid.bytes)}`,
            'textPayload script',
            await settledTimed(() => naiveScript(client, mid.ref, day, out)),
          );
        }
      }
    }
    await network.close();
  }
  emulator.faults.set({ rules: [] });
  const coldBig = `cold ${mib(big.bytes)}`;
  const coldLatency = `${coldBig}, ${LATENCY_MS} ms per request`;
  report.ratio(
    `Cold \`cat\` of a ${mib(big.bytes)} hour through the mount`,
    'the bare client paging the same query over REST',
    coldBig,
    'mount',
    'same query, REST pages',
    0.25,
  );
  report.ratio(
    `Cold \`cat\` of a ${mib(big.bytes)} hour`,
    "a script paging the hour's textPayload with the bare client",
    coldBig,
    'mount',
    'textPayload script',
    0.35,
  );
  if (mid !== big)
    report.ratio(
      `Cold \`cat\` of a ${mib(mid.bytes)} hour`,
      "a script paging the hour's textPayload with the bare client",
      `cold ${mib(mid.bytes)}`,
      'mount',
      'textPayload script',
      0.35,
    );
  report.ratio(
    `Cold \`cat\` of a ${mib(big.bytes)} hour`,
    "the physical limit: DuckDB writing the hour's rows to a file",
    coldBig,
    'mount',
    'DuckDB COPY',
    3,
  );
  report.ratio(
    `Cold \`cat\`, ${LATENCY_MS} ms per request`,
    'the bare client paging the same query over REST',
    coldLatency,
    'mount',
    'same query, REST pages',
    0.25,
  );
  report.ratio(
    `Cold \`cat\`, ${LATENCY_MS} ms per request`,
    "a script paging the hour's textPayload",
    coldLatency,
    'mount',
    'textPayload script',
    0.35,
  );
  const coldRtt = `${coldBig}, ${RTT_MS} ms round trip`;
  report.ratio(
    `Cold \`cat\`, ${RTT_MS} ms round trip`,
    'the bare client paging the same query over REST',
    coldRtt,
    'mount',
    'same query, REST pages',
    0.25,
  );
  report.ratio(
    `Cold \`cat\`, ${RTT_MS} ms round trip`,
    "a script paging the hour's textPayload",
    coldRtt,
    'mount',
    'textPayload script',
    0.35,
  );

  // The REST fallback on the same hour: speed, and what it bills against the Storage Read API.
  const rest = await coldCat(big, ['--read-api', 'rest']);
  report.note(`cold \`cat\` of the ${mib(big.bytes)} hour with --read-api rest: ${(rest.ms / 1000).toFixed(2)} s`);
  report.value(
    'Bytes billed by a cold read, Storage Read API',
    `--read-api rest (${rest.bytesBilled})`,
    bytesBilledStorage === rest.bytesBilled ? 'equal' : String(bytesBilledStorage),
    'equal',
    bytesBilledStorage === rest.bytesBilled,
  );
  report.value(
    `Peak RSS of the daemon while fetching and reading the ${mib(big.bytes)} hour`,
    '—',
    `${rss.toFixed(0)} MB`,
    '≤ 200 MB',
    rss <= 200,
  );

  report.ratio(
    `Time to the first lines: \`head -n 20\` of a cold ${mib(big.bytes)} hour`,
    'a cold `cat` of it',
    coldBig,
    'head -n 20',
    'mount',
    FIRST_LINES_GOAL,
  );
  report.ratio(
    `Time to the last lines: \`tail -n 20\` of a cold ${mib(big.bytes)} hour`,
    'a cold `cat` of it',
    coldBig,
    'tail -n 20',
    'mount',
    FIRST_LINES_GOAL,
  );

  // First read from the disk cache: a fresh daemon over a filled cache, against bindfs over the file.
  const cacheDir = caches[0]!;
  // A cold read can end before its hour's file is renamed into place (it is read as it is written).
  const cachedFile = async (hour: SizedHour) => {
    const find = `find ${cacheDir} -path '*${hour.ref.namespace}*' -name '${String(HOUR).padStart(2, '0')}.log'`;
    for (let tries = 0; ; tries++) {
      const found = (await shOk(find)).trim();
      if (found || tries > 600) return found;
      await sleep(100);
    }
  };
  const bigFile = await cachedFile(big);
  for (let run = 0; run < RUNS; run++) {
    const mountpoint = await tempDir('bench-mnt');
    const daemon = await startDaemon([...args, '--cache-dir', cacheDir], mountpoint, { built });
    await shOk(`cat ${bigFile} > /dev/null`);
    report.sample('first read', 'mount', await timed(() => shOk(`cat ${hourPath(big)} > /dev/null`, mountpoint)));
    await daemon.stop();
    const bindMount = await tempDir('bench-bindfs');
    await shOk(`bindfs ${resolve(bigFile, '..')} ${bindMount}`);
    report.sample(
      'first read',
      'bindfs',
      await timed(() => shOk(`cat ${bindMount}/${String(HOUR).padStart(2, '0')}.log > /dev/null`)),
    );
    await shOk(`fusermount -u ${bindMount}`);
    await removeDir(bindMount);
    await removeDir(mountpoint);
  }
  report.ratio(
    'First read of an hour in the disk cache, through the mount',
    'bindfs (C passthrough FUSE) over the cached file',
    'first read',
    'mount',
    'bindfs',
    1.5,
  );

  // Warm re-reads of finished hours of each size, repeated so that each sample reads about 256 MiB.
  const mountpoint = await tempDir('bench-mnt');
  let daemon = await startDaemon([...args, '--cache-dir', cacheDir], mountpoint, { built });
  for (const hour of hours) {
    await shOk(`cat ${hourPath(hour)} > /dev/null`, mountpoint);
    const cached = hour === big ? bigFile : await cachedFile(hour);
    const size = (await stat(cached)).size;
    const key = `warm ${mib(size)}`;
    const { repeat } = await measureWarm({
      mountpoint,
      hourPath: hourPath(hour),
      cachedFile: cached,
      runs: WARM_RUNS,
      sample: (side, ms) => report.sample(key, side, ms),
    });
    report.ratio(
      `Warm re-read of a finished ${mib(size)} hour (${repeat}× per sample)`,
      'the same bytes in a plain local file',
      key,
      'mount',
      'plain file',
      1.3,
    );
    report.ratio(
      `Warm re-read of a finished ${mib(size)} hour`,
      'the same file through bindfs -o kernel_cache (C passthrough FUSE)',
      key,
      'mount',
      'bindfs',
      1.1,
    );
  }
  await daemon.stop();

  // Bytes billed for all 24 hours of the big container-day against one hour of it.
  const billCache = await tempDir('bench-cache');
  daemon = await startDaemon([...args, '--cache-dir', billCache], mountpoint, { built });
  const dir = hourPath(big).replace(/\/[^/]+$/, '');
  await shOk(`cat ${dir}/03.log > /dev/null`, mountpoint);
  const oneHour = (await settled(daemon)).bytesBilled;
  await shOk(`cat ${dir}/*.log > /dev/null`, mountpoint);
  const allHours = (await settled(daemon)).bytesBilled;
  await daemon.stop();
  report.value(
    'Bytes billed for all 24 hours of a container-day',
    'one hour of it',
    (allHours / oneHour).toFixed(2),
    '≤ 1.05',
    allHours / oneHour <= 1.05,
  );

  // Queries sent when 32 readers open one cold file at once.
  const concurrentCache = await tempDir('bench-cache');
  daemon = await startDaemon([...args, '--cache-dir', concurrentCache], mountpoint, { built });
  await Promise.all(Array.from({ length: 32 }, () => sh(`cat ${dir}/05.log > /dev/null`, mountpoint)));
  const concurrentQueries = (await settled(daemon)).queries;
  await daemon.stop();
  report.value(
    'Queries sent when 32 concurrent readers open one cold file',
    '—',
    String(concurrentQueries),
    '2 (listing and sweep)',
    concurrentQueries <= 2,
  );
  for (const path of [billCache, concurrentCache, ...caches, mountpoint, work]) await removeDir(path);
  await emulator.close();

  const text = report.render();
  process.stdout.write(`${text}\n`);
  if (!values['no-write']) {
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${(await shOk('uname -sr')).trim()}`;
    const command = `npm run bench -- --hour-mib ${values['hour-mib']}${RUNS === 3 ? '' : ` --runs ${RUNS}`}`;
    const doc = await readFile('docs/performance.md', 'utf8');
    const marker = '<!-- bench:results -->';
    const section = `${marker}\nMeasured ${new Date().toISOString().slice(0, 16)}Z with \`${command}\` on ${machine}. Each ratio compares medians of runs of both sides, measured alternately in the same run.\n\n${text}\n${marker}`;
    await writeFile('docs/performance.md', doc.replace(new RegExp(`${marker}[\\s\\S]*${marker}`), section));
  }
  await sleep(10);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
