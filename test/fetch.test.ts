// `bqlogfs fetch`, run as a user would, without FUSE: one file per pod holding exactly the hour
// files the mount would show for the hours of the window, through the same cache. Both table layouts,
// UTC and local hours (--tz), and the line options --timestamps and --format json.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'bq2cst';
import { fetchWindow, hoursOf, parseTime, type TimePoint } from '../src/fetch-window.js';
import { podDaysQuery, type LogSource } from '../src/query-builder.js';
import { createSinkTables, insertEntries, type LogEntry } from '../src/sink-tables.js';
import { TimeZoneModel } from '../src/time-model.js';
import { removeDir, tempDir } from './support/daemon.js';
import { fileEnvironment, datasetFor, LAYOUTS, mountFixtures, PROJECT } from './support/environment.js';
import { expectedFiles, lineOf } from './support/fixtures.js';
import { sh } from './support/shell.js';
import { localHourKey } from './support/zones.js';

const CLI = resolve(import.meta.dirname, '../src/cli.ts');
const FORBID_FUSE = resolve(import.meta.dirname, 'support/forbid-fuse.ts');
const HOUR_MS = 3_600_000;

const currentEnvironment = fileEnvironment(t);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `bqlogfs fetch …` in a child process that fails if anything loads FUSE; `env` adds variables. */
function runFetch(
  args: string[],
  options: { interruptWhen?: () => Promise<boolean>; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', FORBID_FUSE, CLI, 'fetch', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const { interruptWhen } = options;
  if (interruptWhen) {
    void (async () => {
      while (child.exitCode === null && child.signalCode === null) {
        if (await interruptWhen()) {
          child.kill('SIGINT');
          return;
        }
        await sleep(1);
      }
    })();
  }
  return new Promise((resolveRun) =>
    child.once('close', (code, signal) => resolveRun({ code, signal, stdout, stderr })),
  );
}

function timeOf(text: string): TimePoint {
  const parsed = parseTime(text);
  if (parsed === undefined) throw new Error(`not a time: ${text}`);
  return parsed;
}

/** An output directory and a cache of its own for one test, removed after it. */
async function outputAndCache(t: Test): Promise<{ out: string; cacheDir: string }> {
  const out = await tempDir('fetch-out');
  const cacheDir = await tempDir('fetch-cache');
  t.teardown(async () => {
    await removeDir(out);
    await removeDir(cacheDir);
  });
  return { out, cacheDir };
}

async function queriesSent(): Promise<number> {
  const response = await fetch(`${currentEnvironment().emulator.url}/emulator/stats`);
  return ((await response.json()) as { queries: number }).queries;
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
function localHourFiles(zone: string, entries = currentEnvironment().fixtures.entries): Map<string, string> {
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
 * expected hour files (UTC ones unless `files` says otherwise) for the given hours, in time order;
 * pods without any entry there get no file.
 */
function expectedOutput(
  container: string,
  hours: string[],
  filter: { namespace?: string; pod?: RegExp; files?: Map<string, string> } = {},
) {
  const byPod = new Map<string, { hour: string; content: string }[]>();
  for (const [path, content] of filter.files ?? currentEnvironment().files) {
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
    const cacheDir = await tempDir('fetch-cache');
    const outDirs: string[] = [];
    t.teardown(async () => {
      await removeDir(cacheDir);
      for (const dir of outDirs) await removeDir(dir);
    });
    const newOutDir = async () => {
      const dir = await tempDir('fetch-out');
      outDirs.push(dir);
      return dir;
    };
    const connection = [
      '--project',
      PROJECT,
      '--dataset',
      datasetFor(layout),
      '--api-endpoint',
      currentEnvironment().emulator.url,
      '--cache-dir',
      cacheDir,
    ];
    const { yesterday, dayBefore, today } = currentEnvironment().fixtures;

    await t.test('--from/--to writes each pod its hour files of the window', async (t) => {
      const out = await newOutDir();
      const before = await queriesSent();
      const args = ['app', '--namespace', 'shop', '--from', `${yesterday}T10`, '--to', `${yesterday}T12`];
      const run = await runFetch([...args, ...connection, '--out', out]);
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      t.equal((await queriesSent()) - before, 2, 'one query finds the pods, one fetches the container-day');
      const expected = expectedOutput('app', [`${yesterday}/10`, `${yesterday}/11`], { namespace: 'shop' });
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
    });

    await t.test('a fetch of finished hours again sends no content query', async (t) => {
      const out = await newOutDir();
      const before = await queriesSent();
      const args = ['app', '--namespace', 'shop', '--from', `${yesterday}T10`, '--to', `${yesterday}T12`];
      const run = await runFetch([...args, ...connection, '--out', out]);
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      t.equal((await queriesSent()) - before, 1, 'only the query that finds the pods');
      await checkOutput(t, out, expectedOutput('app', [`${yesterday}/10`, `${yesterday}/11`]), 'again');
    });

    await t.test('a window across midnight, several pods, RFC 3339 bounds, --pod', async (t) => {
      const hours = [20, 21, 22, 23].map((hour) => `${dayBefore}/${hour}`).concat(`${yesterday}/00`);
      const args = ['nginx', '--from', `${dayBefore}T20:30:00Z`, '--to', `${yesterday}T02:30:00+02:00`];
      const out = await newOutDir();
      const run = await runFetch([...args, ...connection, '--out', out]);
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      const expected = expectedOutput('nginx', hours);
      t.equal(expected.size, 2, 'both nginx pods logged in these hours');
      await checkOutput(t, out, expected, 'nginx across midnight');

      const filtered = await newOutDir();
      const pod = await runFetch([...args, '--pod', 'fgh', ...connection, '--out', filtered]);
      t.equal(pod.code, 0, 'exit 0', { stderr: pod.stderr });
      await checkOutput(t, filtered, expectedOutput('nginx', hours, { pod: /fgh/ }), '--pod fgh');
    });

    await t.test('without a window: the previous hour and the current one', async (t) => {
      for (let attempt = 0; ; attempt++) {
        const startedMs = Date.now();
        const out = await newOutDir();
        const run = await runFetch(['nginx', ...connection, '--out', out]);
        const endedMs = Date.now();
        // An hour that began while fetch ran makes the expectation ambiguous: try once more.
        if (hourKey(startedMs) !== hourKey(endedMs) && attempt === 0) continue;
        t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
        const expected = expectedOutput('nginx', [hourKey(startedMs - HOUR_MS), hourKey(startedMs)]);
        t.ok(expected.size >= 1, 'the fixtures log into the current hour');
        await checkOutput(t, out, expected, 'last hour');
        break;
      }
    });

    await t.test('--day D: N hours up to the same clock time on day D', async (t) => {
      // Yesterday's day of the month: this month, or the previous one when today is the 1st.
      const dayOfMonth = String(Number(yesterday.slice(8, 10)));
      for (let attempt = 0; ; attempt++) {
        const startedMs = Date.now();
        const out = await newOutDir();
        const run = await runFetch(['worker', '--day', dayOfMonth, '--hours', '3', ...connection, '--out', out]);
        const endedMs = Date.now();
        if (hourKey(startedMs) !== hourKey(endedMs) && attempt === 0) continue;
        t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
        const sameTimeYesterday = startedMs - 86_400_000;
        const instants = [3, 2, 1].map((back) => sameTimeYesterday - back * HOUR_MS).concat(sameTimeYesterday - 1);
        const expected = expectedOutput('worker', [...new Set(instants.map(hourKey))]);
        await checkOutput(t, out, expected, `--day ${dayOfMonth} --hours 3`);
        break;
      }
    });

    await t.test('--tz Asia/Kolkata: local hours at +05:30, not UTC ones', async (t) => {
      const files = localHourFiles('Asia/Kolkata');
      const out = await newOutDir();
      const before = await queriesSent();
      // Local 15:00-17:00 is 09:30-11:30 UTC, around the edge entries at the UTC hour boundaries.
      const window = ['--from', `${yesterday}T15`, '--to', `${yesterday}T17`];
      const args = ['app', '--namespace', 'shop', '--tz', 'Asia/Kolkata', ...window];
      // The flag wins over the environment.
      const run = await runFetch([...args, ...connection, '--out', out], { env: { BQLOGFS_TZ: 'America/New_York' } });
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      t.equal((await queriesSent()) - before, 2, 'one query finds the pods, one fetches the local day');
      const expected = expectedOutput('app', [`${yesterday}/15`, `${yesterday}/16`], { namespace: 'shop', files });
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
      const acrossMidnight = await newOutDir();
      const nginx = await runFetch(
        ['nginx', '--from', `${yesterday}T23:00`, '--to', `${today}T01:00`, ...connection, '--out', acrossMidnight],
        { env: { BQLOGFS_TZ: 'Asia/Kolkata' } },
      );
      t.equal(nginx.code, 0, 'exit 0', { stderr: nginx.stderr });
      const nginxExpected = expectedOutput('nginx', [`${yesterday}/23`, `${today}/00`], { files });
      t.equal(nginxExpected.size, 2, 'both nginx pods logged in these hours');
      await checkOutput(t, acrossMidnight, nginxExpected, 'nginx across local midnight');
    });

    await t.test('--timestamps: each line starts with its entry timestamp', async (t) => {
      const files = expectedFiles(
        currentEnvironment().fixtures.entries,
        (entry) => `${entry.timestamp} ${lineOf(entry)}`,
      );
      const out = await newOutDir();
      const args = ['app', '--timestamps', '--from', `${yesterday}T10`, '--to', `${yesterday}T12`];
      const run = await runFetch([...args, ...connection, '--out', out]);
      t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
      await checkOutput(
        t,
        out,
        expectedOutput('app', [`${yesterday}/10`, `${yesterday}/11`], { files }),
        '--timestamps',
      );
    });
  });
}

t.test('--format json with --tz: the bytes of the hour files of a mount with the same options', async (t) => {
  const environment = currentEnvironment();
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
  const run = await runFetch([
    'app',
    ...options,
    ...['--from', `${yesterday}T15`, '--to', `${yesterday}T17`],
    ...['--project', PROJECT, '--dataset', datasetFor('partitioned'), '--api-endpoint', environment.emulator.url],
    ...['--cache-dir', cacheDir, '--out', out],
  ]);
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  await checkOutput(t, out, new Map([['shop_web-7d9f8-abcde_app.log', mounted]]), 'json in Kolkata');
});

t.test('--tz on the days New York changes its clocks: a repeated hour, a skipped one', async (t) => {
  const environment = currentEnvironment();
  const dataset = 'logs_clock_changes';
  // Every 20 minutes around 2025-03-09 (02:00 skipped) and 2025-11-02 (01:00-02:00 twice).
  const entries: LogEntry[] = [];
  for (const fromIso of ['2025-03-08T12:00:00Z', '2025-11-01T12:00:00Z']) {
    for (let ms = Date.parse(fromIso); ms < Date.parse(fromIso) + 2 * 86_400_000; ms += 20 * 60_000) {
      const iso = new Date(ms).toISOString();
      const timestamp = `${iso.slice(0, 19)}.000000Z`;
      entries.push({
        namespace: 'ops',
        pod: 'clock-0',
        container: 'app',
        stream: 'stdout',
        timestamp,
        insertId: `at-${ms}`,
        textPayload: `entry at ${iso}`,
      });
    }
  }
  const days = ['2025-03-08', '2025-03-09', '2025-03-10', '2025-11-01', '2025-11-02', '2025-11-03'];
  await createSinkTables(environment.client, dataset, 'partitioned', days, []);
  await insertEntries(environment.client, dataset, 'partitioned', entries);
  const files = localHourFiles('America/New_York', entries);
  const cacheDir = await tempDir('fetch-cache');
  const outDirs: string[] = [];
  t.teardown(async () => {
    await removeDir(cacheDir);
    for (const dir of outDirs) await removeDir(dir);
  });
  const connection = ['--project', PROJECT, '--dataset', dataset, '--api-endpoint', environment.emulator.url];
  const cases = [
    { from: '2025-11-02T00', to: '2025-11-02T03', hours: ['2025-11-02/00', '2025-11-02/01', '2025-11-02/02'] },
    { from: '2025-03-09T01', to: '2025-03-09T04', hours: ['2025-03-09/01', '2025-03-09/03'] },
  ];
  for (const { from, to, hours } of cases) {
    const out = await tempDir('fetch-out');
    outDirs.push(out);
    const args = ['app', '--tz', 'America/New_York', '--from', from, '--to', to, ...connection];
    const run = await runFetch([...args, '--cache-dir', cacheDir, '--out', out]);
    t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
    const expected = expectedOutput('app', hours, { files });
    t.equal(
      expected.get('ops_clock-0_app.log')?.split('\n').length,
      from.startsWith('2025-11') ? 13 : 7,
      `${from}: 12 or 6 entries`,
    );
    await checkOutput(t, out, expected, `${from} to ${to} in New York`);
  }
});

t.test('usage errors exit 2 before any query', async (t) => {
  const connection = ['--project', PROJECT, '--dataset', datasetFor('partitioned')];
  const endpoint = ['--api-endpoint', currentEnvironment().emulator.url];
  const before = await queriesSent();
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
  for (const [name, args, message, env] of cases) {
    const out = await tempDir('fetch-bad');
    const run = await runFetch([...args, ...endpoint, '--out', out], { ...(env && { env }) });
    t.equal(run.code, 2, `${name}: exit 2`);
    t.match(run.stderr, message, name);
    t.same(await readdir(out), [], `${name}: nothing written`);
    await removeDir(out);
  }
  t.equal(await queriesSent(), before, 'no query was sent');
});

t.test('no pod in the window: a message, exit 0, no file', async (t) => {
  const { out, cacheDir } = await outputAndCache(t);
  const { oldDay } = currentEnvironment().fixtures;
  const run = await runFetch([
    'worker',
    ...['--from', `${oldDay}T04`, '--to', `${oldDay}T06`],
    ...['--project', PROJECT, '--dataset', datasetFor('sharded'), '--api-endpoint', currentEnvironment().emulator.url],
    ...['--cache-dir', cacheDir, '--out', out],
  ]);
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  t.match(run.stderr, /no pod has entries of container worker in /);
  t.same(await readdir(out), []);
});

t.test('a failed query exits 1 with what to do, and writes nothing', async (t) => {
  const { out, cacheDir } = await outputAndCache(t);
  const run = await runFetch([
    'nginx',
    '--since',
    '3d',
    '--max-bytes-billed',
    '1M',
    ...[
      '--project',
      PROJECT,
      '--dataset',
      datasetFor('partitioned'),
      '--api-endpoint',
      currentEnvironment().emulator.url,
    ],
    ...['--cache-dir', cacheDir, '--out', out],
  ]);
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
  const command = [
    process.execPath,
    ...['--import', 'tsx', '--import', FORBID_FUSE, CLI, 'fetch', 'nginx', '--since', '3d', '--out', out],
    ...[
      '--project',
      PROJECT,
      '--dataset',
      datasetFor('partitioned'),
      '--api-endpoint',
      currentEnvironment().emulator.url,
    ],
    ...['--cache-dir', cacheDir],
  ].join(' ');
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
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', FORBID_FUSE, '--input-type=module', '-e', "await import('fuse-native')"],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise((resolveExit) => child.once('close', resolveExit));
  t.not(code, 0);
  t.match(stderr, /FUSE was loaded/);
});

t.test('an interrupted fetch leaves only whole files', async (t) => {
  const { out, cacheDir } = await outputAndCache(t);
  const { dayBefore, yesterday } = currentEnvironment().fixtures;
  const args = ['nginx', '--from', `${dayBefore}T00`, '--to', `${yesterday}T23`, '--out', out];
  const connection = ['--project', PROJECT, '--dataset', datasetFor('sharded'), '--cache-dir', cacheDir];
  // Interrupted as soon as a file is being written, if polling catches that moment.
  let caught = false;
  const run = await runFetch([...args, ...connection, '--api-endpoint', currentEnvironment().emulator.url], {
    interruptWhen: async () => (caught = (await readdir(out)).some((name) => name.endsWith('.partial'))),
  });
  t.comment(caught ? 'interrupted while writing a file' : 'the fetch ended before a file was caught being written');
  if (caught) t.equal(run.code, 130, 'exit 130 after SIGINT', { stderr: run.stderr });
  else t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  const hours: string[] = [];
  for (let ms = Date.parse(`${dayBefore}T00:00:00Z`); ms < Date.parse(`${yesterday}T23:00:00Z`); ms += HOUR_MS) {
    hours.push(hourKey(ms));
  }
  const expected = expectedOutput('nginx', hours);
  for (const name of await readdir(out)) {
    t.ok(expected.has(name), `${name} is a final name`);
    t.ok((await readFile(join(out, name), 'utf8')) === expected.get(name), `${name} is whole`);
  }
});

t.test('window arithmetic in UTC', async (t) => {
  const utc = new TimeZoneModel('UTC');
  const now = Date.parse('2026-03-05T14:20:00Z');
  const hours = (range: { startMs: number; endMs: number }) => [
    new Date(range.startMs).toISOString(),
    new Date(range.endMs).toISOString(),
  ];
  t.same(hours(fetchWindow({ kind: 'recent', durationMs: HOUR_MS }, now, utc)), [
    '2026-03-05T13:00:00.000Z',
    '2026-03-05T15:00:00.000Z',
  ]);
  t.same(hours(fetchWindow({ kind: 'recent', durationMs: 2 * HOUR_MS }, now, utc)), [
    '2026-03-05T12:00:00.000Z',
    '2026-03-05T15:00:00.000Z',
  ]);
  t.same(hours(fetchWindow({ kind: 'day-of-month', day: 1, hours: 1 }, now, utc)), [
    '2026-03-01T13:00:00.000Z',
    '2026-03-01T15:00:00.000Z',
  ]);
  t.same(
    hours(fetchWindow({ kind: 'day-of-month', day: 28, hours: 24 }, now, utc)),
    ['2026-02-27T14:00:00.000Z', '2026-02-28T15:00:00.000Z'],
    'a day still to come this month is of the previous month',
  );
  t.throws(() => fetchWindow({ kind: 'day-of-month', day: 30, hours: 1 }, now, utc), /2026-02 has no day 30/);
  t.same(
    hours(fetchWindow({ kind: 'day-of-month', day: 31, hours: 1 }, Date.parse('2026-01-10T00:30:00Z'), utc)),
    ['2025-12-30T23:00:00.000Z', '2025-12-31T01:00:00.000Z'],
    'across a year',
  );
  const between = (from: string, to: string) =>
    hours(fetchWindow({ kind: 'between', from: timeOf(from), to: timeOf(to) }, now, utc));
  t.same(between('2026-03-01T10', '2026-03-01T12'), ['2026-03-01T10:00:00.000Z', '2026-03-01T12:00:00.000Z']);
  t.same(
    between('2026-03-01T10:59:59.999999Z', '2026-03-01T12:00:00.000001Z'),
    ['2026-03-01T10:00:00.000Z', '2026-03-01T13:00:00.000Z'],
    'sub-millisecond bounds widen too',
  );
  t.throws(() => between('2026-03-01T12', '2026-03-01T12:00:00Z'), /--from must be before --to/);
  t.same(parseTime('2026-03-01T10:30:00+01:30'), { instantMs: Date.parse('2026-03-01T09:00:00Z') });
  t.same(parseTime('2026-03-01t10:30:00z'), { instantMs: Date.parse('2026-03-01T10:30:00Z') });
  t.same(parseTime('2026-03-01T10'), { wallMs: Date.parse('2026-03-01T10:00:00Z') }, 'no offset: a local time');
  t.same(parseTime('2026-03-01T10:30'), { wallMs: Date.parse('2026-03-01T10:30:00Z') });
  t.same(parseTime('2026-03-01T10:30:15.5'), { wallMs: Date.parse('2026-03-01T10:30:15.500Z') });
  for (const bad of ['2026-03-01', '2026-03-01T24', '2026-02-29T10', '2026-03-01T10:3', '2026-03-01T10:30:60', 'x']) {
    t.equal(parseTime(bad), undefined, `not a time: ${bad}`);
  }
  t.equal(parseTime('2026-03-01T10:30:00+24:00'), undefined, 'not an offset');
});

t.test('window arithmetic in other zones', async (t) => {
  const kolkata = new TimeZoneModel('Asia/Kolkata');
  const newYork = new TimeZoneModel('America/New_York');
  const now = Date.parse('2026-03-05T14:20:00Z');
  const window = (choice: Parameters<typeof fetchWindow>[0], zone: TimeZoneModel, at = now) => {
    const range = fetchWindow(choice, at, zone);
    return [new Date(range.startMs).toISOString(), new Date(range.endMs).toISOString()];
  };
  const between = (from: string, to: string, zone: TimeZoneModel) =>
    window({ kind: 'between', from: timeOf(from), to: timeOf(to) }, zone);

  t.same(
    between('2026-03-01T10', '2026-03-01T12', kolkata),
    ['2026-03-01T04:30:00.000Z', '2026-03-01T06:30:00.000Z'],
    'a time without an offset is local',
  );
  t.same(
    between('2026-03-01T05:00:00Z', '2026-03-01T05:10:00Z', kolkata),
    ['2026-03-01T04:30:00.000Z', '2026-03-01T05:30:00.000Z'],
    'an instant widens to the local hour around it',
  );
  t.same(
    window({ kind: 'recent', durationMs: HOUR_MS }, kolkata),
    ['2026-03-05T12:30:00.000Z', '2026-03-05T14:30:00.000Z'],
    'the last hour: local 18:50-19:50, i.e. the local hours 18 and 19',
  );
  // 20:00 UTC on the 5th is 01:30 on the 6th in Kolkata.
  const lateEvening = Date.parse('2026-03-05T20:00:00Z');
  t.same(
    window({ kind: 'day-of-month', day: 6, hours: 1 }, kolkata, lateEvening),
    ['2026-03-05T18:30:00.000Z', '2026-03-05T20:30:00.000Z'],
    'the day of the month and the clock time are local',
  );
  t.same(window({ kind: 'day-of-month', day: 5, hours: 1 }, kolkata, lateEvening), [
    '2026-03-04T18:30:00.000Z',
    '2026-03-04T20:30:00.000Z',
  ]);

  // New York falls back on 2026-11-01 (01:00-02:00 twice) and springs forward on 2026-03-08 (no 02:xx).
  t.same(
    between('2026-11-01T01:30', '2026-11-01T02', newYork),
    ['2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    'the repeated hour is one hour file of two hours',
  );
  t.same(
    between('2026-11-01T06:30:00Z', '2026-11-01T06:40:00Z', newYork),
    ['2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    'also from an instant in its second half',
  );
  t.same(
    between('2026-03-08T02:30', '2026-03-08T04', newYork),
    ['2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z'],
    'a skipped local time counts as that long after the change',
  );
  const files = (startIso: string, endIso: string, zone: TimeZoneModel) =>
    hoursOf({ startMs: Date.parse(startIso), endMs: Date.parse(endIso) }, zone).map(
      ({ day, hour }) => `${day}/${hour}`,
    );
  t.same(files('2026-11-01T04:00:00Z', '2026-11-01T08:00:00Z', newYork), [
    '2026-11-01/0',
    '2026-11-01/1',
    '2026-11-01/2',
  ]);
  t.same(files('2026-03-01T17:30:00Z', '2026-03-01T19:30:00Z', kolkata), ['2026-03-01/23', '2026-03-02/0']);
});

t.test('the pod query is GoogleSQL that reads only labels and timestamps', async (t) => {
  for (const layout of LAYOUTS) {
    const suffix = layout === 'sharded' ? '_*' : '';
    const source: LogSource = {
      projectId: 'my-project',
      datasetId: 'gke_logs',
      layout,
      tables: [
        { stream: 'stdout', tableId: `stdout${suffix}`, columns: new Set(['timestamp', 'resource', 'textPayload']) },
        { stream: 'stderr', tableId: `stderr${suffix}`, columns: new Set(['timestamp', 'resource']) },
      ],
    };
    const window = { startMs: Date.parse('2026-03-01T22:00:00Z'), endMs: Date.parse('2026-03-02T02:00:00Z') };
    for (const namespace of [undefined, 'quote-me-ns']) {
      const query = podDaysQuery(source, { container: 'quote-me', ...(namespace && { namespace }) }, window);
      t.doesNotThrow(() => parse(query.sql), `${layout} ${namespace ?? 'all namespaces'} parses`);
      t.notMatch(query.sql, /quote-me/, 'names are parameters');
      t.notMatch(query.sql, /textPayload|jsonPayload|insertId/, 'no payload column');
      t.equal(query.params.container, 'quote-me');
      t.equal(query.params.namespace, namespace);
      if (layout === 'sharded') t.same([query.params.first_shard, query.params.last_shard], ['20260301', '20260302']);
    }
  }
});
