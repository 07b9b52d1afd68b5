// A randomized soak: over a thousand reads through real mounts while the local BigQuery server
// injects every kind of fault at random, from a fixed seed. Every read must give exactly the true
// bytes or an error; the cache must never hold a partial or wrong file; the daemon must neither
// crash nor grow without bound. Besides the fixtures, it reads a container of long lines Cloud
// Logging split into parts, from tables that have a split column (test/support/split-fixtures.ts).
// After each round that reads finished hours, a third of its cached hour files are damaged on disk
// (a byte flipped or the file cut short) and a new daemon reads 40 of the same paths from that cache.
// After the rounds, with the plan's faults that only slow requests down, two failure points that need
// a scene of their own (test/support/soak-points.ts): readers killed while their fetch stalls, and
// entries that arrive late into a followed live hour, then sealed.
//
// Two rounds run at once, each with its own mount, cache and reads, both drawing their faults from
// the server's one plan. The rounds, the reads and the plan are those of the soak that ran one round
// at a time (12 rounds of 90 reads), so each request risks the same faults; when it was changed to
// two at a time, a run sent some 2 000 requests and had 900 to 1 000 faults injected, against about
// 2 300 and 1 070 one round at a time. The figures of each run are in its closing comment.
import t from 'tap';
import { join } from 'node:path';
import type { FaultPlan } from '../src/emulator/fault-plan.js';
import { addBulk } from './support/bulk.js';
import { startDaemon, tempMountDirs, type Daemon } from './support/daemon.js';
import { fileEnvironment, fixtureArgs, LAYOUTS } from './support/environment.js';
import { cacheProblems, damageCache, peakRssBytes, readAndCompare } from './support/fault-checks.js';
import { mapConcurrently } from './support/pool.js';
import { interruptedReaders, lateEntries } from './support/soak-points.js';
import { addSplitEntries } from './support/split-fixtures.js';
import { readStats } from './support/stats.js';

const SEED = 20_261_126;
const ROUNDS = 12;
const READS_PER_ROUND = 90;
const CONCURRENT_READS = 4;
const CONCURRENT_ROUNDS = 2;
const REREADS_OF_DAMAGED_CACHE = 40;
const MAX_RSS_BYTES = 300 * 1024 * 1024;

const PLAN: FaultPlan = {
  seed: SEED,
  rules: [
    { endpoint: '*', kind: 'latency', ms: 15, probability: 0.3 },
    { endpoint: 'jobs.getQueryResults', kind: 'error', status: 500, probability: 0.04 },
    { endpoint: 'jobs.insert', kind: 'error', status: 503, probability: 0.04 },
    { endpoint: '*', kind: 'error', status: 403, probability: 0.02 },
    { endpoint: '*', kind: 'error', status: 429, probability: 0.02 },
    { endpoint: 'jobs.getQueryResults', kind: 'jobIncomplete', probability: 0.08 },
    { endpoint: 'jobs.getQueryResults', kind: 'reset', probability: 0.04 },
    { endpoint: 'jobs.insert', kind: 'reset', probability: 0.02 },
    { endpoint: 'jobs.getQueryResults', kind: 'jobFailure', probability: 0.03 },
    { endpoint: 'jobs.insert', kind: 'jobFailure', probability: 0.02 },
    { endpoint: 'jobs.getQueryResults', kind: 'hang', probability: 0.005 },
    { endpoint: 'storage.readRows', kind: 'streamReset', probability: 0.05 },
    { endpoint: 'storage.readRows', kind: 'streamEnd', probability: 0.05 },
    { endpoint: 'storage.createReadSession', kind: 'error', status: 503, probability: 0.04 },
  ],
};

/** A small seeded generator, so the order of reads is the same in every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

// Some 1 200 reads through faults, latency and time-outs on 2 cores: more than the default limit.
t.setTimeout(20 * 60_000);

const currentEnvironment = fileEnvironment(t);
t.before(async () => {
  await addBulk(currentEnvironment(), LAYOUTS);
  // Long lines Cloud Logging split, in tables that have a split column, as a sink adds it.
  await addSplitEntries(currentEnvironment(), LAYOUTS);
});

/**
 * Live rounds treat every hour as unfinished (--seal-after far away, --refresh 1ms), so nearly
 * every access queries again and appends to the hour's file; final rounds start from an empty
 * cache and write each container-day anew.
 */
function roundArgs(round: number): { layout: (typeof LAYOUTS)[number]; extra: string[]; live: boolean } {
  const layout = LAYOUTS[round % LAYOUTS.length]!;
  const live = round % 5 !== 4;
  return { layout, extra: live ? ['--seal-after', '3650d', '--refresh', '1ms'] : [], live };
}

interface Figures {
  reads: number;
  /** Hour files damaged on disk between a final round and the daemon that mounts its cache again. */
  damagedFiles: number;
  exact: number;
  errors: number;
  wrongBytes: number;
  crashes: number;
  /** Daemons that gave up at startup, when a fault hit the queries they start with: tried again. */
  failedStarts: number;
  queries: number;
  peakRss: number;
}

interface Findings {
  figures: Figures;
  wrong: string[];
  problems: string[];
  errors: Map<string, number>;
  comments: string[];
}

/** Reads the queue's paths through the mount, `CONCURRENT_READS` at a time, and counts the outcomes. */
async function readQueue(mountpoint: string, queue: string[], findings: Findings): Promise<void> {
  const { figures, wrong, errors } = findings;
  const environment = currentEnvironment();
  const reader = async () => {
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      const outcome = await readAndCompare(join(mountpoint, path), environment.files.get(path));
      figures.reads++;
      if (outcome.kind === 'exact') figures.exact++;
      else if (outcome.kind === 'error') {
        figures.errors++;
        errors.set(outcome.code, (errors.get(outcome.code) ?? 0) + 1);
      } else {
        figures.wrongBytes++;
        wrong.push(outcome.detail);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_READS }, reader));
}

/** One round: a new mount and cache, its reads, then the checks. */
async function soakRound(round: number, queue: string[], findings: Findings): Promise<void> {
  const { figures } = findings;
  const environment = currentEnvironment();
  const { layout, extra, live } = roundArgs(round);
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const mountArgs = [...fixtureArgs(environment, layout), '--cache-dir', cacheDir, ...extra];
  const rereads = [...new Set(queue)].slice(0, REREADS_OF_DAMAGED_CACHE);
  await soakDaemon(round, mountArgs, mountpoint, queue, findings, () => cacheProblems(cacheDir, environment.files));
  if (live) return;
  // The cache of finished hours is damaged on disk, and a new daemon reads the same paths from it. A
  // damaged file is caught when it is read, so only the files read must be whole and true afterwards,
  // or no longer vouched for by their manifest (see cacheProblems).
  figures.damagedFiles += await damageCache(cacheDir, seeded(SEED + round));
  await soakDaemon(round, mountArgs, mountpoint, [...rereads], findings, () =>
    cacheProblems(cacheDir, environment.files, new Set(rereads)),
  );
}

/**
 * Starts a daemon while the server injects faults. A daemon whose startup queries fail or time out
 * exits with the reason, as it should; it is started again, a few times at most. A loaded machine
 * can make the start-up queries themselves outlast --query-timeout under the plan's latency, so each
 * new attempt allows twice the time of the one before.
 */
async function startUnderFaults(mountArgs: string[], mountpoint: string, figures: Figures): Promise<Daemon> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDaemon([...mountArgs, '--query-timeout', `${5 * 2 ** (attempt - 1)}s`], mountpoint);
    } catch (error) {
      if (attempt === 5) throw error;
      figures.failedStarts++;
    }
  }
}

/** A daemon that reads the queue, then is checked (its cache, a crash, its memory) and unmounted. */
async function soakDaemon(
  round: number,
  mountArgs: string[],
  mountpoint: string,
  queue: string[],
  findings: Findings,
  checkCache: () => Promise<string[]>,
): Promise<void> {
  const { figures } = findings;
  const daemon = await startUnderFaults(mountArgs, mountpoint, findings.figures);
  try {
    await readQueue(mountpoint, queue, findings);
    findings.problems.push(...(await checkCache()));
    if (daemon.process.exitCode === null) {
      figures.peakRss = Math.max(figures.peakRss, await peakRssBytes(daemon.process.pid!));
      figures.queries += (await readStats(mountpoint)).queries;
    } else {
      figures.crashes++;
      findings.comments.push(
        `round ${round}: daemon exited with ${daemon.process.exitCode}:\n${daemon.logs().slice(-2000)}`,
      );
    }
  } finally {
    await daemon.stop();
  }
}

t.test('random faults never yield wrong bytes, partial files, crashes or unbounded memory', async (t) => {
  const environment = currentEnvironment();
  const random = seeded(SEED);
  const paths = [...environment.files.keys()];
  // A few hours without entries too: they must read as "no such file" or fail, nothing else.
  for (const day of [environment.fixtures.yesterday, environment.fixtures.dayBefore]) {
    for (let hour = 0; hour < 24; hour++) {
      const path = `batch/report-28391-xk2p9/worker/${day}/${String(hour).padStart(2, '0')}.log`;
      if (!environment.files.has(path)) paths.push(path);
    }
  }
  // Every round's reads are drawn before any round starts, so they do not depend on which round ends first.
  const queues = Array.from({ length: ROUNDS }, () =>
    Array.from({ length: READS_PER_ROUND }, () => paths[Math.floor(random() * paths.length)]!),
  );
  const findings: Findings = {
    figures: {
      reads: 0,
      damagedFiles: 0,
      exact: 0,
      errors: 0,
      wrongBytes: 0,
      crashes: 0,
      failedStarts: 0,
      queries: 0,
      peakRss: 0,
    },
    wrong: [],
    problems: [],
    errors: new Map(),
    comments: [],
  };
  environment.emulator.faults.set(PLAN);
  const startedAt = Date.now();
  await mapConcurrently([...queues.keys()], CONCURRENT_ROUNDS, (round) => soakRound(round, queues[round]!, findings));

  const injected = environment.emulator.faults.stats();
  const slowing = PLAN.rules.filter((rule) => rule.kind === 'latency' || rule.kind === 'jobIncomplete');
  const points = [
    await interruptedReaders(t, environment, slowing, SEED),
    await lateEntries(t, environment, slowing, SEED),
  ];
  environment.emulator.faults.clear();

  const { figures, wrong, problems, errors } = findings;
  for (const comment of findings.comments) t.comment(comment);
  t.ok(figures.reads >= 1_000, `${figures.reads} reads`);
  t.equal(figures.wrongBytes, 0, 'no read returned other bytes than the truth');
  t.same(wrong.slice(0, 5), []);
  t.equal(figures.crashes, 0, 'the daemon never crashed');
  t.same(problems.slice(0, 5), [], 'no partial or wrong file in the cache');
  t.ok(figures.peakRss < MAX_RSS_BYTES, `peak RSS ${(figures.peakRss / 1_048_576).toFixed(0)} MiB`);
  t.ok(injected.injected > 100, 'faults were injected');
  t.ok(figures.exact > figures.reads / 2, 'most reads got through');
  t.ok(figures.damagedFiles > 0, `${figures.damagedFiles} cached hour files damaged on disk, none served`);
  t.same(
    points.flatMap((point) => point.wrong),
    [],
    `interrupted readers and late entries: ${points.map((point) => point.checks).join(' + ')} checks, no wrong bytes`,
  );
  t.same(
    points.flatMap((point) => point.problems),
    [],
    'killed readers exit, the others wait and succeed, the daemons stay up',
  );
  t.comment(
    [
      `soak: ${figures.reads} reads in ${((Date.now() - startedAt) / 1000).toFixed(0)} s, ${figures.queries} queries`,
      `exact ${figures.exact}, errors ${figures.errors} ${JSON.stringify(Object.fromEntries(errors))}`,
      `faults injected ${injected.injected} of ${injected.requests} requests ${JSON.stringify(injected.byKind)}`,
      `wrong bytes ${figures.wrongBytes}, crashes ${figures.crashes}, cached files damaged ${figures.damagedFiles}`,
      `daemons started again after a failed start ${figures.failedStarts}`,
      `peak RSS ${(figures.peakRss / 1_048_576).toFixed(1)} MiB`,
      ...points.map((point) => point.comment),
    ].join('\n'),
  );
});
