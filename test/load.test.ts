// Many readers at once: every cold read gets exactly the true bytes, a mount never runs more than
// --max-concurrent-queries queries at once (seen by the mount and, independently, by the local
// BigQuery server), and cached listings and the stats file answer quickly while a big fetch runs.
import t from 'tap';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { addBulk, BULK } from './support/bulk.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp, testDir } from './support/daemon.js';
import { fileEnvironment, mountFixtures, PROJECT } from './support/environment.js';
import { readAndCompare, type ReadOutcome } from './support/fault-checks.js';
import { trackJobs } from './support/job-tracker.js';
import { shOk } from './support/shell.js';
import { recentQueries, settledStats } from './support/stats.js';

const MAX_CONCURRENT_QUERIES = 4; // the default of --max-concurrent-queries
const READERS = 64;
const BIG_DATASET = 'logs_big';
const BIG = { namespace: 'big', pod: 'firehose-6c8d9-z7x4v', container: 'app' } as const;
const BIG_ROWS = 200_000;

const currentEnvironment = fileEnvironment(t);
let bigDay: string;

/** The big container's day: rows in time order, so the day's hour files in order hold the lines in order. */
function* bigEntries(): Generator<LogEntry> {
  const startMs = Date.parse(`${bigDay}T00:00:00Z`);
  const padding = 'p'.repeat(440);
  for (let n = 0; n < BIG_ROWS; n++) {
    const micros = Math.floor((n * 86_400_000_000) / BIG_ROWS);
    const ms = startMs + Math.floor(micros / 1000);
    yield {
      ...BIG,
      stream: n % 11 === 0 ? 'stderr' : 'stdout',
      timestamp: `${new Date(ms).toISOString().slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`,
      insertId: `big-${String(n).padStart(7, '0')}`,
      textPayload: `${String(n).padStart(7, '0')} level=INFO msg="a busy container" ${padding}`,
    };
  }
}

function bigDaySha256(): string {
  const hash = createHash('sha256');
  for (const entry of bigEntries()) hash.update(`${entry.textPayload ?? ''}\n`);
  return hash.digest('hex');
}

/** Loading the big day takes a while; the first test, which does not read it, runs meanwhile. */
let bigDayLoaded: Promise<void>;

t.before(async () => {
  const environment = currentEnvironment();
  await addBulk(environment, ['partitioned']);
  bigDay = environment.fixtures.yesterday;
  bigDayLoaded = (async () => {
    const startedAt = performance.now();
    await createSinkTables(environment.client, BIG_DATASET, 'partitioned', [bigDay], []);
    await insertEntries(environment.client, BIG_DATASET, 'partitioned', bigEntries(), 2_000);
    t.comment(`loaded ${BIG_ROWS} rows of ~500 bytes in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  })();
  // A failed load fails the test that waits for it, not the whole file.
  bigDayLoaded.catch(() => undefined);
});

/** `count` fixture hour files, taken in turn from every container-day, so reads need many queries. */
function spreadFiles(skip: number, count: number): string[] {
  const { fixtures, files } = currentEnvironment();
  const { yesterday, dayBefore } = fixtures;
  const byDay = new Map<string, string[]>();
  for (const path of [...files.keys()].sort()) {
    if (path.startsWith(`${BULK.namespace}/`)) continue;
    const day = path.split('/')[3] ?? '';
    if (day !== yesterday && day !== dayBefore) continue;
    const key = path.split('/').slice(0, 4).join('/');
    byDay.set(key, [...(byDay.get(key) ?? []), path]);
  }
  const columns = [...byDay.values()];
  const order: string[] = [];
  for (let row = 0; order.length < skip + count; row++) {
    for (const column of columns) {
      const path = column[row];
      if (path !== undefined) order.push(path);
    }
  }
  return order.slice(skip, skip + count);
}

t.test(`${READERS} readers of different cold files and ${READERS} of one cold file`, async (t) => {
  const environment = currentEnvironment();
  const { files } = environment;
  const tracker = trackJobs(environment.emulator);
  t.teardown(() => tracker.stop());
  const partitioned = await mountFixtures(t, environment, ['--log-level', 'warn'], 'partitioned');
  const sharded = await mountFixtures(t, environment, ['--log-level', 'warn'], 'sharded');
  const mounts = [partitioned.daemon.mountpoint, sharded.daemon.mountpoint];
  // Every request takes a while, so queries overlap and wait for their turn.
  environment.emulator.faults.set({ rules: [{ endpoint: '*', kind: 'latency', ms: 100 }] });

  const different = mounts.flatMap((mountpoint, index) =>
    spreadFiles(index * (READERS / 2), READERS / 2).map((path) => ({ mountpoint, path })),
  );
  t.equal(new Set(different.map(({ mountpoint, path }) => join(mountpoint, path))).size, READERS, 'distinct reads');
  const hot = `${BULK.namespace}/${BULK.pod}/${BULK.container}/${environment.fixtures.dayBefore}/12.log`;
  const reads = [
    ...different,
    ...Array.from({ length: READERS }, () => ({ mountpoint: partitioned.daemon.mountpoint, path: hot })),
  ];
  const startedAt = performance.now();
  const outcomes: ReadOutcome[] = await Promise.all(
    reads.map(({ mountpoint, path }) => readAndCompare(join(mountpoint, path), files.get(path))),
  );
  const elapsedMs = performance.now() - startedAt;
  t.same(
    outcomes.flatMap((outcome, index) => (outcome.kind === 'exact' ? [] : [{ ...reads[index], outcome }])),
    [],
    `all ${reads.length} reads gave exactly the true bytes (${elapsedMs.toFixed(0)} ms)`,
  );

  for (const [name, mountpoint] of [
    ['partitioned', partitioned.daemon.mountpoint],
    ['sharded', sharded.daemon.mountpoint],
  ] as const) {
    const stats = await settledStats(mountpoint);
    const namespaceDays = new Set(
      reads
        .filter((read) => read.mountpoint === mountpoint)
        .map((read) => {
          const [namespace, , , day] = read.path.split('/');
          return `${namespace}/${day}`;
        }),
    );
    t.equal(recentQueries(stats, 'entries').length, 0, `${name}: no query per container-day`);
    t.equal(
      recentQueries(stats, 'sweep').length,
      namespaceDays.size,
      `${name}: one sweep per namespace-day (${namespaceDays.size})`,
    );
    // A sweep holds its slot until its result is complete; reading the kept result afterwards is not a
    // running query, so the server's view counts only queries whose pages are read inside their slot.
    const seenByServer = tracker.peakOverlap(
      stats.recentQueries.filter((query) => query.kind !== 'sweep').map((query) => query.jobId),
    );
    t.comment(
      `${name}: ${stats.queries} queries, at most ${stats.peakQueriesRunning} running at once by the mount's count, ` +
        `${seenByServer} by the server's`,
    );
    t.ok(
      stats.peakQueriesRunning <= MAX_CONCURRENT_QUERIES,
      `${name}: the mount ran at most ${MAX_CONCURRENT_QUERIES}`,
    );
    t.ok(seenByServer <= MAX_CONCURRENT_QUERIES, `${name}: the server saw at most ${MAX_CONCURRENT_QUERIES} at once`);
    t.ok(stats.peakQueriesRunning >= 2, `${name}: queries did overlap, so the limit was put to the test`);
  }
});

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

t.test('a cached listing and the stats file answer in under 100 ms during a big fetch', async (t) => {
  await bigDayLoaded;
  const out = await testDir(t, 'out');
  const { daemon } = await mountTemp(t, [
    ...serverArgs(currentEnvironment().emulator, PROJECT, BIG_DATASET),
    ...['--log-level', 'warn'],
  ]);
  const { mountpoint } = daemon;
  const dayDir = join(mountpoint, BIG.namespace, BIG.pod, BIG.container, bigDay);
  // Listings come from one window query, kept for --listing-ttl: these fill it.
  t.equal((await shOk(`ls '${mountpoint}'`)).trim(), BIG.namespace);
  t.equal((await shOk(`ls '${dayDir}' | wc -l`)).trim(), '24');

  // Times each try inside the shell, so the figures do not depend on how busy this process is (it
  // also runs the BigQuery server that is sending the big result).
  const script = `
    cat '${dayDir}'/*.log > '${out}/day.log' & reader=$!
    for try in $(seq 1 40); do
      sleep 0.2
      kill -0 $reader 2>/dev/null || break
      start=$EPOCHREALTIME; ls '${mountpoint}' > /dev/null
      listed=$EPOCHREALTIME; cat '${mountpoint}/.bqlogfs/stats' > /dev/null
      done=$EPOCHREALTIME
      kill -0 $reader 2>/dev/null && echo "$start $listed $done"
    done
    wait $reader; echo "cat exited $?"`;
  const startedAt = performance.now();
  const lines = (await shOk(script)).trim().split('\n');
  const fetchMs = performance.now() - startedAt;
  t.equal(lines.pop(), 'cat exited 0', 'cat of the whole day succeeded');
  const tries = lines.map((line) => line.split(' ').map(Number) as [number, number, number]);
  const lsMs = tries.map(([start, listed]) => (listed - start) * 1000);
  const statsMs = tries.map(([, listed, done]) => (done - listed) * 1000);
  const format = (samples: number[]) => samples.map((ms) => ms.toFixed(1)).join(' ');
  t.comment(`cat of the ${BIG_ROWS}-row day took ${(fetchMs / 1000).toFixed(1)} s; ${tries.length} tries while it ran`);
  t.comment(
    `ls of the root (ms): median ${median(lsMs).toFixed(1)}, max ${Math.max(...lsMs).toFixed(1)}: ${format(lsMs)}`,
  );
  t.comment(
    `cat .bqlogfs/stats (ms): median ${median(statsMs).toFixed(1)}, max ${Math.max(...statsMs).toFixed(1)}: ${format(statsMs)}`,
  );
  t.ok(tries.length >= 3, `at least 3 tries while the fetch ran (${tries.length})`);
  t.ok(median(lsMs) < 100, `ls answers in under 100 ms (median ${median(lsMs).toFixed(1)} ms)`);
  t.ok(median(statsMs) < 100, `the stats file answers in under 100 ms (median ${median(statsMs).toFixed(1)} ms)`);

  const [sum] = (await shOk(`sha256sum '${out}/day.log'`)).split(' ');
  t.equal(sum, bigDaySha256(), 'the day read back through the mount holds exactly the true bytes');
  const stats = await settledStats(mountpoint);
  t.equal(recentQueries(stats, 'sweep').length, 1, 'one query');
});
