// `bqlogfs fetch`, run as a user would, without FUSE: one file per pod holding exactly the hour
// files the mount would show for the hours of the window, through the same cache. Both table layouts,
// UTC and local hours (--tz), and the line options --timestamps and --format json.
import t, { type Test } from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { cliCommand, ranToEnd, runNode, serverArgs, spawnCli, type CliRun } from './support/cli-process.js';
import { testDir } from './support/daemon.js';
import {
  environmentPool,
  fixtureArgs,
  LAYOUTS,
  mountFixtures,
  PROJECT,
  type Environment,
} from './support/environment.js';
import { expectedFiles, lineOf } from './support/fixtures.js';
import { mapConcurrently } from './support/pool.js';
import { sh } from './support/shell.js';
import { serverStats } from './support/stats.js';
import { entriesEveryTwentyMinutes, localHourKey } from './support/zones.js';

const HOUR_MS = 3_600_000;

// Each test that runs fetch takes a server of its own, whose query counts are then its alone, so
// two tests run at once.
const RUNNING_AT_ONCE = 2;
t.jobs = RUNNING_AT_ONCE;
const serverFor = environmentPool(t, RUNNING_AT_ONCE);

/** Runs `bqlogfs fetch …` in a child process that fails if anything loads FUSE; `env` adds variables. */
function runFetch(
  args: string[],
  options: { interruptWhen?: () => Promise<boolean>; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const run = spawnCli(['fetch', ...args], { forbidFuse: true, ...(options.env && { env: options.env }) });
  const { interruptWhen } = options;
  if (interruptWhen) {
    void (async () => {
      while (run.child.exitCode === null && run.child.signalCode === null) {
        if (await interruptWhen()) {
          run.child.kill('SIGINT');
          return;
        }
        await sleep(1);
      }
    })();
  }
  return ranToEnd(run);
}

/** An output directory and a cache of its own for one test, removed after it. */
async function outputAndCache(t: Test): Promise<{ out: string; cacheDir: string }> {
  return { out: await testDir(t, 'fetch-out'), cacheDir: await testDir(t, 'fetch-cache') };
}

async function queriesSent(environment: Environment): Promise<number> {
  return (await serverStats(environment.emulator.url)).queries;
}

/** `YYYY-MM-DD/HH` of the hour an instant falls in (UTC). */
function hourKey(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)}/${iso.slice(11, 13)}`;
}

/**
 * The hour files of a mount with `--tz zone`, from the fixtures alone: a local hour holds its
 * entries of the one or two UTC hour files it overlaps, in their order.
 */
function localHourFiles(zone: string, entries: LogEntry[]): Map<string, string> {
  const byLocalFile = new Map<string, LogEntry[]>();
  for (const entry of entries) {
    const hour = localHourKey(Date.parse(entry.timestamp), zone);
    const path = `${entry.namespace}/${entry.pod}/${entry.container}/${hour}.log`;
    byLocalFile.set(path, [...(byLocalFile.get(path) ?? []), entry]);
  }
  const files = new Map<string, string>();
  for (const [path, inFile] of byLocalFile) {
    const utcFiles = [...expectedFiles(inFile)].sort(([a], [b]) => (a < b ? -1 : 1));
    files.set(path, utcFiles.map(([, content]) => content).join(''));
  }
  return files;
}

/**
 * What fetch must write, from the fixtures alone: per pod of the container, the concatenation of its
 * expected hour `files` (UTC or local ones) for the given hours, in time order; pods without any
 * entry there get no file.
 */
function expectedOutput(
  files: Map<string, string>,
  container: string,
  hours: string[],
  filter: { namespace?: string; pod?: RegExp } = {},
) {
  const byPod = new Map<string, { hour: string; content: string }[]>();
  for (const [path, content] of files) {
    const [namespace = '', pod = '', fileContainer, day, hourFile = ''] = path.split('/');
    const hour = `${day}/${hourFile.replace('.log', '')}`;
    if (fileContainer !== container || !hours.includes(hour)) continue;
    if (filter.namespace !== undefined && namespace !== filter.namespace) continue;
    if (filter.pod && !filter.pod.test(pod)) continue;
    const name = `${namespace}_${pod}_${container}.log`;
    byPod.set(name, [...(byPod.get(name) ?? []), { hour, content }]);
  }
  const output = new Map<string, string>();
  for (const [name, parts] of byPod) {
    parts.sort((a, b) => (a.hour < b.hour ? -1 : 1));
    output.set(name, parts.map((part) => part.content).join(''));
  }
  return output;
}

/** The out directory holds exactly the expected files, byte for byte, and nothing temporary. */
async function checkOutput(t: Test, outDir: string, expected: Map<string, string>, label: string): Promise<void> {
  const names = (await readdir(outDir)).sort();
  t.same(names, [...expected.keys()].sort(), `${label}: one file per pod, and nothing else`);
  for (const [name, content] of expected) {
    const written = await readFile(join(outDir, name), 'utf8').catch(() => undefined);
    t.ok(written === content, `${label}: ${name} holds the ${content.length} expected bytes`);
  }
}

for (const layout of LAYOUTS) {
  t.test(`${layout} tables`, async (t) => {
    const environment = await serverFor(t);
    /** This layout's dataset, through a cache of the test's own. */
    const connection = (cacheDir: string) => [...fixtureArgs(environment, layout), '--cache-dir', cacheDir];
    const { yesterday, dayBefore, today } = environment.fixtures;

    await t.test('--from/--to writes each pod its hour files of the window', async (t) => {
      const { out, cacheDir } = await outputAndCache(t);
      const before = await queriesSent(environment);
      const args = ['app', '--namespace', 'shop', '--from', `${yesterday}T10`, '--to', `${yesterday}T12`];
      const run = await runFetch([...args, ...connection(cacheDir), '--out', out]);
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      t.equal((await queriesSent(environment)) - before, 2, 'one query finds the pods, one fetches the container-day');
      const expected = expectedOutput(environment.files, 'app', [`${yesterday}/10`, `${yesterday}/11`], {
        namespace: 'shop',
      });
      t.equal(expected.size, 1, 'the fixtures have one pod with container app');
      await checkOutput(t, out, expected, 'app 10-12');
      t.equal(
        run.stderr
          .trim()
          .split('\n')
          .filter((line) => line.startsWith('wrote ')).length,
        expected.size,
      );
      t.match(run.stderr, `wrote ${join(out, 'shop_web-7d9f8-abcde_app.log')} (`, 'one summary line per file');

      await t.test('a fetch of finished hours again sends no content query', async (t) => {
        const again = await testDir(t, 'fetch-out');
        const before = await queriesSent(environment);
        const run = await runFetch([...args, ...connection(cacheDir), '--out', again]);
        t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
        t.equal((await queriesSent(environment)) - before, 1, 'only the query that finds the pods');
        await checkOutput(
          t,
          again,
          expectedOutput(environment.files, 'app', [`${yesterday}/10`, `${yesterday}/11`]),
          'again',
        );
      });
    });

    await t.test('a window across midnight, several pods, RFC 3339 bounds, --pod', async (t) => {
      const { out, cacheDir } = await outputAndCache(t);
      const hours = [20, 21, 22, 23].map((hour) => `${dayBefore}/${hour}`).concat(`${yesterday}/00`);
      const args = ['nginx', '--from', `${dayBefore}T20:30:00Z`, '--to', `${yesterday}T02:30:00+02:00`];
      const run = await runFetch([...args, ...connection(cacheDir), '--out', out]);
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      const expected = expectedOutput(environment.files, 'nginx', hours);
      t.equal(expected.size, 2, 'both nginx pods logged in these hours');
      await checkOutput(t, out, expected, 'nginx across midnight');

      const filtered = await testDir(t, 'fetch-out');
      const pod = await runFetch([...args, '--pod', 'fgh', ...connection(cacheDir), '--out', filtered]);
      t.equal(pod.code, 0, 'exit 0', { stderr: pod.stderr });
      await checkOutput(t, filtered, expectedOutput(environment.files, 'nginx', hours, { pod: /fgh/ }), '--pod fgh');
    });

    await t.test('without a window: the previous hour and the current one', async (t) => {
      const { cacheDir } = await outputAndCache(t);
      for (let attempt = 0; ; attempt++) {
        const startedMs = Date.now();
        const out = await testDir(t, 'fetch-out');
        const run = await runFetch(['nginx', ...connection(cacheDir), '--out', out]);
        const endedMs = Date.now();
        // An hour that began while fetch ran makes the expectation ambiguous: try once more.
        if (hourKey(startedMs) !== hourKey(endedMs) && attempt === 0) continue;
        t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
        const expected = expectedOutput(environment.files, 'nginx', [hourKey(startedMs - HOUR_MS), hourKey(startedMs)]);
        t.ok(expected.size >= 1, 'the fixtures log into the current hour');
        await checkOutput(t, out, expected, 'last hour');
        break;
      }
    });

    await t.test('--day D: N hours up to the same clock time on day D', async (t) => {
      const { cacheDir } = await outputAndCache(t);
      // Yesterday's day of the month: this month, or the previous one when today is the 1st.
      const dayOfMonth = String(Number(yesterday.slice(8, 10)));
      const window = ['--day', dayOfMonth, '--hours', '3'];
      for (let attempt = 0; ; attempt++) {
        const startedMs = Date.now();
        const out = await testDir(t, 'fetch-out');
        const run = await runFetch(['worker', ...window, ...connection(cacheDir), '--out', out]);
        const endedMs = Date.now();
        if (hourKey(startedMs) !== hourKey(endedMs) && attempt === 0) continue;
        t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
        const sameTimeYesterday = startedMs - 86_400_000;
        const instants = [3, 2, 1].map((back) => sameTimeYesterday - back * HOUR_MS).concat(sameTimeYesterday - 1);
        const expected = expectedOutput(environment.files, 'worker', [...new Set(instants.map(hourKey))]);
        await checkOutput(t, out, expected, `--day ${dayOfMonth} --hours 3`);
        break;
      }
    });

    await t.test('--tz Asia/Kolkata: local hours at +05:30, not UTC ones', async (t) => {
      const { out, cacheDir } = await outputAndCache(t);
      const files = localHourFiles('Asia/Kolkata', environment.fixtures.entries);
      const before = await queriesSent(environment);
      // Local 15:00-17:00 is 09:30-11:30 UTC, around the edge entries at the UTC hour boundaries.
      const window = ['--from', `${yesterday}T15`, '--to', `${yesterday}T17`];
      const args = ['app', '--namespace', 'shop', '--tz', 'Asia/Kolkata', ...window];
      // The flag wins over the environment.
      const run = await runFetch([...args, ...connection(cacheDir), '--out', out], {
        env: { BQLOGFS_TZ: 'America/New_York' },
      });
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      // A local day of Asia/Kolkata overlaps two UTC days: one sweep of the container name for each.
      t.equal((await queriesSent(environment)) - before, 3, 'one query finds the pods, one sweep per UTC day');
      const expected = expectedOutput(files, 'app', [`${yesterday}/15`, `${yesterday}/16`], { namespace: 'shop' });
      t.equal(expected.size, 1, 'the fixtures have one pod with container app');
      const content = expected.get('shop_web-7d9f8-abcde_app.log') ?? '';
      t.ok(
        ['belongs to the previous hour', 'last entry of the hour', 'belongs to the next hour'].every((text) =>
          content.includes(text),
        ),
        'the window holds the entries either side of a UTC hour boundary',
      );
      await checkOutput(t, out, expected, 'app 15-17 in Kolkata');

      // Across local midnight (17:30-19:30 UTC), the zone from the environment and bounds in local minutes.
      const acrossMidnight = await testDir(t, 'fetch-out');
      const nginxArgs = ['nginx', '--from', `${yesterday}T23:00`, '--to', `${today}T01:00`];
      const nginx = await runFetch([...nginxArgs, ...connection(cacheDir), '--out', acrossMidnight], {
        env: { BQLOGFS_TZ: 'Asia/Kolkata' },
      });
      t.equal(nginx.code, 0, 'exit 0', { stderr: nginx.stderr });
      const nginxExpected = expectedOutput(files, 'nginx', [`${yesterday}/23`, `${today}/00`]);
      t.equal(nginxExpected.size, 2, 'both nginx pods logged in these hours');
      await checkOutput(t, acrossMidnight, nginxExpected, 'nginx across local midnight');
    });

    await t.test('--timestamps: each line starts with its entry timestamp', async (t) => {
      const { out, cacheDir } = await outputAndCache(t);
      const files = expectedFiles(environment.fixtures.entries, (entry) => `${entry.timestamp} ${lineOf(entry)}`);
      const args = ['app', '--timestamps', '--from', `${yesterday}T10`, '--to', `${yesterday}T12`];
      const run = await runFetch([...args, ...connection(cacheDir), '--out', out]);
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      await checkOutput(t, out, expectedOutput(files, 'app', [`${yesterday}/10`, `${yesterday}/11`]), '--timestamps');
    });
  });
}

t.test('--format json with --tz: the bytes of the hour files of a mount with the same options', async (t) => {
  const environment = await serverFor(t);
  const { yesterday } = environment.fixtures;
  const options = ['--tz', 'Asia/Kolkata', '--format', 'json'];
  const { daemon } = await mountFixtures(t, environment, options);
  const dayDir = join(daemon.mountpoint, 'shop/web-7d9f8-abcde/app', yesterday);
  const mounted = (await readFile(join(dayDir, '15.log'), 'utf8')) + (await readFile(join(dayDir, '16.log'), 'utf8'));
  const lines = mounted.split('\n').slice(0, -1);
  t.ok(
    lines.length > 0 && lines.every((line) => (JSON.parse(line) as { insertId?: string }).insertId !== undefined),
    'one JSON entry per line',
  );

  const { out, cacheDir } = await outputAndCache(t);
  const window = ['--from', `${yesterday}T15`, '--to', `${yesterday}T17`];
  const run = await runFetch([
    'app',
    ...options,
    ...window,
    ...fixtureArgs(environment),
    ...['--cache-dir', cacheDir, '--out', out],
  ]);
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  await checkOutput(t, out, new Map([['shop_web-7d9f8-abcde_app.log', mounted]]), 'json in Kolkata');
});

t.test('--tz on the days New York changes its clocks: a repeated hour, a skipped one', async (t) => {
  const environment = await serverFor(t);
  const dataset = 'logs_clock_changes';
  // Every 20 minutes around 2025-03-09 (02:00 skipped) and 2025-11-02 (01:00-02:00 twice).
  const entries = entriesEveryTwentyMinutes(['2025-03-08T12:00:00Z', '2025-11-01T12:00:00Z']);
  const days = ['2025-03-08', '2025-03-09', '2025-03-10', '2025-11-01', '2025-11-02', '2025-11-03'];
  await createSinkTables(environment.client, dataset, 'partitioned', days, []);
  await insertEntries(environment.client, dataset, 'partitioned', entries);
  const files = localHourFiles('America/New_York', entries);
  const cacheDir = await testDir(t, 'fetch-cache');
  const connection = serverArgs(environment.emulator, PROJECT, dataset);
  const cases = [
    { from: '2025-11-02T00', to: '2025-11-02T03', hours: ['2025-11-02/00', '2025-11-02/01', '2025-11-02/02'] },
    { from: '2025-03-09T01', to: '2025-03-09T04', hours: ['2025-03-09/01', '2025-03-09/03'] },
  ];
  for (const { from, to, hours } of cases) {
    const out = await testDir(t, 'fetch-out');
    const args = ['app', '--tz', 'America/New_York', '--from', from, '--to', to, ...connection];
    const run = await runFetch([...args, '--cache-dir', cacheDir, '--out', out]);
    t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
    const expected = expectedOutput(files, 'app', hours);
    t.equal(
      expected.get('ops_clock-0_app.log')?.split('\n').length,
      from.startsWith('2025-11') ? 13 : 7,
      `${from}: 12 or 6 entries`,
    );
    await checkOutput(t, out, expected, `${from} to ${to} in New York`);
  }
});

t.test('usage errors exit 2 before any query', async (t) => {
  const environment = await serverFor(t);
  const connection = fixtureArgs(environment);
  const before = await queriesSent(environment);
  const cases: [string, string[], RegExp, NodeJS.ProcessEnv?][] = [
    ['invalid container', ['App_1', ...connection], /invalid container name "App_1"/],
    ['container with a quote', ["app'x", ...connection], /invalid container name/],
    ['invalid namespace', ['app', '--namespace', 'Shop', ...connection], /invalid namespace "Shop"/],
    ['no container', [...connection], /exactly one container/],
    ['--since with --day', ['app', '--since', '2h', '--day', '1', ...connection], /--since cannot be combined/],
    ['--hours without --day', ['app', '--hours', '2', ...connection], /--hours needs --day/],
    ['--from without --to', ['app', '--from', '2026-01-01T10', ...connection], /--from and --to go together/],
    ['bad --from', ['app', '--from', '2026-02-30T10', '--to', '2026-03-01T10', ...connection], /--from: not a time/],
    ['from after to', ['app', '--from', '2026-01-02T10', '--to', '2026-01-01T10', ...connection], /before --to/],
    ['--day 32', ['app', '--day', '32', ...connection], /--day takes a day of the month/],
    ['bad --pod', ['app', '--pod', '(', ...connection], /--pod: /],
    ['unknown option', ['app', '--bogus', ...connection], /Unknown option/],
    ['unknown --tz', ['app', '--tz', 'Mars/Olympus', ...connection], /--tz: unknown time zone "Mars\/Olympus"/],
    ['bad BQLOGFS_TZ', ['app', ...connection], /BQLOGFS_TZ: unknown time zone "Berlin"/, { BQLOGFS_TZ: 'Berlin' }],
    ['bad --query-timeout', ['app', '--query-timeout', '5 min', ...connection], /--query-timeout: not a duration/],
    ['no queries at once', ['app', '--max-concurrent-queries', '0', ...connection], /--max-concurrent-queries: takes/],
    [
      'local --from after --to',
      ['app', '--tz', 'America/New_York', '--from', '2026-01-01T10:00', '--to', '2026-01-01T12:00:00Z', ...connection],
      /--from must be before --to/,
    ],
  ];
  // Each case is a process of its own that sends nothing, so they can run side by side.
  const runs = await mapConcurrently(cases, 4, async ([, args, , env]) => {
    const out = await testDir(t, 'fetch-bad');
    return { out, run: await runFetch([...args, '--out', out], { ...(env && { env }) }) };
  });
  for (const [index, [name, , message]] of cases.entries()) {
    const { out, run } = runs[index]!;
    t.equal(run.code, 2, `${name}: exit 2`);
    t.match(run.stderr, message, name);
    t.same(await readdir(out), [], `${name}: nothing written`);
  }
  t.equal(await queriesSent(environment), before, 'no query was sent');
});

t.test('no pod in the window: a message, exit 0, no file', async (t) => {
  const { out, cacheDir } = await outputAndCache(t);
  const environment = await serverFor(t);
  const { oldDay } = environment.fixtures;
  const window = ['--from', `${oldDay}T04`, '--to', `${oldDay}T06`];
  const connection = fixtureArgs(environment, 'sharded');
  const run = await runFetch(['worker', ...window, ...connection, ...['--cache-dir', cacheDir, '--out', out]]);
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  t.match(run.stderr, /no pod has entries of container worker in /);
  t.same(await readdir(out), []);
});

t.test('a failed query exits 1 with what to do, and writes nothing', async (t) => {
  const { out, cacheDir } = await outputAndCache(t);
  const limited = ['nginx', '--since', '3d', '--max-bytes-billed', '1M'];
  const connection = fixtureArgs(await serverFor(t));
  const run = await runFetch([...limited, ...connection, '--cache-dir', cacheDir, '--out', out]);
  t.equal(run.code, 1);
  t.match(run.stderr, /raise --max-bytes-billed/);
  t.same(await readdir(out), []);
});

t.test('on a terminal, a progress bar on stderr', async (t) => {
  const script = await sh('command -v script');
  if (script.code !== 0) {
    t.comment('skipped: needs script(1) for a pseudo-terminal');
    return;
  }
  const { out, cacheDir } = await outputAndCache(t);
  const args = ['fetch', 'nginx', '--since', '3d', '--out', out, ...fixtureArgs(await serverFor(t))];
  const command = cliCommand([...args, '--cache-dir', cacheDir], { forbidFuse: true }).join(' ');
  const run = await sh(`script -qefc '${command}' /dev/null`, resolve(import.meta.dirname, '..'));
  t.equal(run.code, 0, 'exit 0', { output: run.stdout });
  t.ok(run.stdout.includes('\r\x1b[2K[#') || run.stdout.includes('\r\x1b[2K[.'), 'a bar redrawn in place');
  t.match(run.stdout, `wrote 2 files (`, 'a final summary line');
  t.notMatch(run.stdout, /wrote \//, 'no line per file');
});

t.test('fetch --help prints its usage', async (t) => {
  const run = await runFetch(['--help']);
  t.equal(run.code, 0);
  t.match(run.stdout, /bqlogfs fetch <container>/);
  t.match(run.stdout, /<namespace>_<pod>_<container>\.log/);
  for (const option of ['--tz <zone>', '--timestamps', '--format <text|json>', '--query-timeout <duration>']) {
    t.match(run.stdout, option, `shows ${option}`);
  }
  t.match(run.stdout, /--max-concurrent-queries <n> +queries running at once[^]*\(default: 4\)/);
  t.match(run.stdout, /--query-timeout <duration> +a query not done by then fails the fetch[^]*\(default: 5m\)/);
});

t.test('the FUSE guard does catch a FUSE import', async (t) => {
  const run = await runNode(['--input-type=module', '-e', "await import('fuse-native')"], { forbidFuse: true });
  t.not(run.code, 0);
  t.match(run.stderr, /FUSE was loaded/);
});

t.test('an interrupted fetch leaves only whole files', async (t) => {
  const { out, cacheDir } = await outputAndCache(t);
  const environment = await serverFor(t);
  const { dayBefore, yesterday } = environment.fixtures;
  const args = ['nginx', '--from', `${dayBefore}T00`, '--to', `${yesterday}T23`, '--out', out];
  const connection = [...fixtureArgs(environment, 'sharded'), '--cache-dir', cacheDir];
  // Interrupted as soon as a file is being written, if polling catches that moment.
  let caught = false;
  const run = await runFetch([...args, ...connection], {
    interruptWhen: async () => (caught = (await readdir(out)).some((name) => name.endsWith('.partial'))),
  });
  t.comment(caught ? 'interrupted while writing a file' : 'the fetch ended before a file was caught being written');
  if (caught) t.equal(run.code, 130, 'exit 130 after SIGINT', { stderr: run.stderr });
  else t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  const hours: string[] = [];
  for (let ms = Date.parse(`${dayBefore}T00:00:00Z`); ms < Date.parse(`${yesterday}T23:00:00Z`); ms += HOUR_MS) {
    hours.push(hourKey(ms));
  }
  const expected = expectedOutput(environment.files, 'nginx', hours);
  for (const name of await readdir(out)) {
    t.ok(expected.has(name), `${name} is a final name`);
    t.ok((await readFile(join(out, name), 'utf8')) === expected.get(name), `${name} is whole`);
  }
});
