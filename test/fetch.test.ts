// `bqlogfs fetch`, run as a user would, without FUSE: one file per pod holding exactly the hour
// files the mount would show for the hours of the window, through the same cache. Both table layouts.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'bq2cst';
import { fetchWindow, parseInstant } from '../src/fetch-window.js';
import { podDaysQuery, type LogSource } from '../src/query-builder.js';
import { removeDir, tempDir } from './support/daemon.js';
import { fileEnvironment, datasetFor, LAYOUTS, PROJECT } from './support/environment.js';
import { sh } from './support/shell.js';

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

/** Runs `bqlogfs fetch …` in a child process that fails if anything loads FUSE. */
function runFetch(args: string[], options: { interruptWhen?: () => Promise<boolean> } = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', FORBID_FUSE, CLI, 'fetch', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
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
 * What fetch must write, from the fixtures alone: per pod of the container, the concatenation of its
 * expected hour files for the given hours, in time order; pods without any entry there get no file.
 */
function expectedOutput(container: string, hours: string[], filter: { namespace?: string; pod?: RegExp } = {}) {
  const byPod = new Map<string, { hour: string; content: string }[]>();
  for (const [path, content] of currentEnvironment().files) {
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
    const { yesterday, dayBefore } = currentEnvironment().fixtures;

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
  });
}

t.test('usage errors exit 2 before any query', async (t) => {
  const connection = ['--project', PROJECT, '--dataset', datasetFor('partitioned')];
  const endpoint = ['--api-endpoint', currentEnvironment().emulator.url];
  const before = await queriesSent();
  const cases: [string, string[], RegExp][] = [
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
  ];
  for (const [name, args, message] of cases) {
    const out = await tempDir('fetch-bad');
    const run = await runFetch([...args, ...endpoint, '--out', out]);
    t.equal(run.code, 2, `${name}: exit 2`);
    t.match(run.stderr, message, name);
    t.same(await readdir(out), [], `${name}: nothing written`);
    await removeDir(out);
  }
  t.equal(await queriesSent(), before, 'no query was sent');
});

t.test('no pod in the window: a message, exit 0, no file', async (t) => {
  const out = await tempDir('fetch-out');
  const cacheDir = await tempDir('fetch-cache');
  t.teardown(async () => {
    await removeDir(out);
    await removeDir(cacheDir);
  });
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
  const out = await tempDir('fetch-out');
  const cacheDir = await tempDir('fetch-cache');
  t.teardown(async () => {
    await removeDir(out);
    await removeDir(cacheDir);
  });
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
  const out = await tempDir('fetch-out');
  const cacheDir = await tempDir('fetch-cache');
  t.teardown(async () => {
    await removeDir(out);
    await removeDir(cacheDir);
  });
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
  const cacheDir = await tempDir('fetch-cache');
  const out = await tempDir('fetch-out');
  t.teardown(async () => {
    await removeDir(cacheDir);
    await removeDir(out);
  });
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

t.test('window arithmetic', async (t) => {
  const now = Date.parse('2026-03-05T14:20:00Z');
  const hours = (range: { startMs: number; endMs: number }) => [
    new Date(range.startMs).toISOString(),
    new Date(range.endMs).toISOString(),
  ];
  t.same(hours(fetchWindow({ kind: 'recent', durationMs: HOUR_MS }, now)), [
    '2026-03-05T13:00:00.000Z',
    '2026-03-05T15:00:00.000Z',
  ]);
  t.same(hours(fetchWindow({ kind: 'recent', durationMs: 2 * HOUR_MS }, now)), [
    '2026-03-05T12:00:00.000Z',
    '2026-03-05T15:00:00.000Z',
  ]);
  t.same(hours(fetchWindow({ kind: 'day-of-month', day: 1, hours: 1 }, now)), [
    '2026-03-01T13:00:00.000Z',
    '2026-03-01T15:00:00.000Z',
  ]);
  t.same(
    hours(fetchWindow({ kind: 'day-of-month', day: 28, hours: 24 }, now)),
    ['2026-02-27T14:00:00.000Z', '2026-02-28T15:00:00.000Z'],
    'a day still to come this month is of the previous month',
  );
  t.throws(() => fetchWindow({ kind: 'day-of-month', day: 30, hours: 1 }, now), /2026-02 has no day 30/);
  t.same(
    hours(fetchWindow({ kind: 'day-of-month', day: 31, hours: 1 }, Date.parse('2026-01-10T00:30:00Z'))),
    ['2025-12-30T23:00:00.000Z', '2025-12-31T01:00:00.000Z'],
    'across a year',
  );
  const between = (from: string, to: string) =>
    hours(fetchWindow({ kind: 'between', fromMs: parseInstant(from) ?? NaN, toMs: parseInstant(to) ?? NaN }, now));
  t.same(between('2026-03-01T10', '2026-03-01T12'), ['2026-03-01T10:00:00.000Z', '2026-03-01T12:00:00.000Z']);
  t.same(
    between('2026-03-01T10:59:59.999999Z', '2026-03-01T12:00:00.000001Z'),
    ['2026-03-01T10:00:00.000Z', '2026-03-01T13:00:00.000Z'],
    'sub-millisecond bounds widen too',
  );
  t.equal(parseInstant('2026-03-01T10:30:00+01:30'), Date.parse('2026-03-01T09:00:00Z'));
  t.equal(parseInstant('2026-03-01t10:30:00z'), Date.parse('2026-03-01T10:30:00Z'));
  for (const bad of ['2026-03-01', '2026-03-01T24', '2026-02-29T10', '2026-03-01T10:30', '2026-03-01T10:30:00', 'x']) {
    t.equal(parseInstant(bad), undefined, `not an instant: ${bad}`);
  }
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
