// `bqlogfs grep`, run as a user would, against the local server loaded with the fixtures: the lines
// it prints for each container are the lines real GNU grep prints over that container's hour files
// (computed from the inserted rows alone, see support/environment.ts), for fixed strings, regular
// expressions and -i, over several pods and namespaces and across midnight; with one query that
// bills what the window's partitions of the entry columns cost.
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { sweepQuery, type LogSource } from '../src/bigquery/query-builder.js';
import { childEnv, cliCommand, runCli, type CliRun } from './support/cli-process.js';
import { testDir } from './support/daemon.js';
import { fileEnvironment, fixtureArgs, type Environment } from './support/environment.js';
import { sh } from './support/shell.js';
import { serverStats } from './support/stats.js';

const environmentOf = fileEnvironment(t);

/** Runs `bqlogfs grep …` against the fixtures' partitioned dataset, with a cache of the test's own. */
async function runGrep(args: string[], cacheDir: string): Promise<CliRun> {
  return runCli(['grep', ...fixtureArgs(environmentOf()), '--cache-dir', cacheDir, ...args], { forbidFuse: true });
}

/** The hour files of the plain copy inside [first, last] hour keys (`YYYY-MM-DD/HH`), per container, oldest first. */
async function hourFiles(environment: Environment, first: string, last: string): Promise<Map<string, string[]>> {
  const byContainer = new Map<string, string[]>();
  for (const path of [...environment.files.keys()].sort()) {
    const [namespace, pod, container, day, hour = ''] = path.split('/');
    const key = `${day}/${hour.replace('.log', '')}`;
    if (key < first || key > last) continue;
    const name = `${namespace}/${pod}/${container}`;
    byContainer.set(name, [...(byContainer.get(name) ?? []), join(environment.plainRoot, path)]);
  }
  return byContainer;
}

/** What GNU grep prints over the files, with -h; '' when nothing matches. */
function gnuGrep(flags: string[], pattern: string, files: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'grep',
      ['-h', ...flags, '-e', pattern, '--', ...files],
      { env: { ...process.env, LC_ALL: 'C.UTF-8' }, maxBuffer: 64 * 2 ** 20 },
      (error, stdout) => {
        if (error && error.code !== 1) reject(error);
        else resolve(stdout);
      },
    );
  });
}

/** `ns/pod/ctr` → the lines printed under that prefix, in order. */
function byContainer(stdout: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of stdout.split('\n').slice(0, -1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    lines.set(name, `${lines.get(name) ?? ''}${line.slice(colon + 1)}\n`);
  }
  return lines;
}

/** The fixtures' partitioned dataset as bqlogfs finds it, for statements the test sends itself. */
function fixtureSource(): LogSource {
  const columns = new Set(['logName', 'resource', 'textPayload', 'jsonPayload', 'timestamp', 'insertId', 'labels']);
  return {
    projectId: 'test-project',
    datasetId: 'logs_partitioned',
    layout: 'partitioned',
    tables: [
      { stream: 'stdout', tableId: 'stdout', columns },
      { stream: 'stderr', tableId: 'stderr', columns },
    ],
  };
}

interface Case {
  name: string;
  /** bqlogfs grep's flags; GNU grep gets `grepFlags` (the same unless said). */
  flags: string[];
  grepFlags?: string[];
  pattern: string;
}

const CASES: Case[] = [
  { name: 'a fixed string', flags: ['-F'], pattern: 'ERROR action=login' },
  { name: 'a fixed string with regex characters', flags: ['-F'], pattern: 'took=1' },
  { name: 'a fixed string across a JSON null field', flags: ['-F'], pattern: '"count":0.1,"ok":false}' },
  { name: 'a whole number in JSON', flags: ['-F'], pattern: '"count":3,' },
  { name: 'case-insensitive, multi-byte', flags: ['-F', '-i'], pattern: 'HÉLLO WÖRLD' },
  { name: 'an extended regex', flags: ['-E'], pattern: '^(WARN|ERROR) action=(login|logout) took=[0-9]+ms$' },
  { name: 'a basic regex (the default)', flags: [], pattern: 'took=1[0-9]\\{2\\}ms$' },
  { name: 'a basic regex with literal parentheses and +', flags: [], pattern: 'a+(b)|^spanning' },
  { name: 'the second line of an entry', flags: ['-E'], pattern: '^spanning two' },
  { name: 'case-insensitive regex, a carriage return', flags: ['-E', '-i'], pattern: 'RETURN AT THE END.$' },
  { name: 'empty lines', flags: [], pattern: '^$' },
  { name: 'POSIX classes', flags: ['-E'], pattern: '^[[:upper:]]{4} action=[[:alpha:]]+ took=[[:digit:]]{3}ms' },
  { name: 'nothing matches', flags: ['-F'], pattern: 'no such text anywhere' },
];

t.test('the same lines as GNU grep over the hour files, per container, across midnight', async (t) => {
  const environment = environmentOf();
  const { dayBefore, yesterday } = environment.fixtures;
  const cacheDir = await testDir(t, 'grep-cache');
  const files = await hourFiles(environment, `${dayBefore}/20`, `${yesterday}/11`);
  t.ok(files.size >= 5, 'the window holds several pods in several namespaces');
  for (const testCase of CASES) {
    const before = await serverStats(environment.emulator.url);
    const window = ['--from', `${dayBefore}T20`, '--to', `${yesterday}T12`];
    const run = await runGrep([...testCase.flags, ...window, '--', testCase.pattern], cacheDir);
    const after = await serverStats(environment.emulator.url);
    const expected = new Map<string, string>();
    for (const [name, paths] of files) {
      const lines = await gnuGrep(testCase.grepFlags ?? testCase.flags, testCase.pattern, paths);
      if (lines !== '') expected.set(name, lines);
    }
    t.equal(run.code, expected.size > 0 ? 0 : 1, `${testCase.name}: exit status as grep's`, { stderr: run.stderr });
    const printed = byContainer(run.stdout);
    t.same([...printed.keys()].sort(), [...expected.keys()].sort(), `${testCase.name}: the containers with matches`);
    for (const [name, lines] of expected) {
      t.ok(printed.get(name) === lines, `${testCase.name}: ${name}, ${lines.split('\n').length - 1} lines as grep`, {
        found: printed.get(name)?.slice(0, 2000),
        wanted: lines.slice(0, 2000),
      });
    }
    t.equal(after.queries - before.queries, 1, `${testCase.name}: one query`);
    t.equal(after.dryRuns - before.dryRuns, 1, `${testCase.name}: and one dry run before it`);
  }
});

t.test('the query bills what a sweep of the same window bills: the entry columns of its partitions', async (t) => {
  const environment = environmentOf();
  const { dayBefore, yesterday } = environment.fixtures;
  const cacheDir = await testDir(t, 'grep-cache');
  const before = await serverStats(environment.emulator.url);
  const run = await runGrep(['-F', 'ERROR', '--from', `${dayBefore}T20`, '--to', `${yesterday}T12`], cacheDir);
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  const middle = await serverStats(environment.emulator.url);
  const range = { startMs: Date.parse(`${dayBefore}T20:00:00Z`), endMs: Date.parse(`${yesterday}T12:00:00Z`) };
  const sweep = sweepQuery(fixtureSource(), {}, range, 'UTC');
  await environment.client.query({ query: sweep.sql, params: sweep.params, types: sweep.types });
  const after = await serverStats(environment.emulator.url);
  const grepBilled = middle.bytesBilled - before.bytesBilled;
  t.ok(grepBilled > 0, `grep billed ${grepBilled} bytes`);
  t.equal(grepBilled, after.bytesBilled - middle.bytesBilled, 'as much as one sweep of both days, every namespace');
  t.equal(
    middle.bytesProcessed - before.bytesProcessed,
    after.bytesProcessed - middle.bytesProcessed,
    'bytes processed',
  );
  const counted = await runGrep(
    ['-c', '-F', 'ERROR', '--from', `${dayBefore}T20`, '--to', `${yesterday}T12`],
    cacheDir,
  );
  t.equal(counted.code, 0, '--count: exit 0', { stderr: counted.stderr });
  const afterCount = await serverStats(environment.emulator.url);
  t.equal(afterCount.queries - after.queries, 1, '--count: one query');
  t.equal(afterCount.bytesBilled - after.bytesBilled, grepBilled, '--count bills the same, rows for zeros included');
});

t.test('--count, --format json and --out', async (t) => {
  const environment = environmentOf();
  const { yesterday } = environment.fixtures;
  const cacheDir = await testDir(t, 'grep-cache');
  const window = ['--from', `${yesterday}T00`, '--to', `${yesterday}T12`];
  const files = await hourFiles(environment, `${yesterday}/00`, `${yesterday}/11`);
  const expected = new Map<string, string>();
  for (const [name, paths] of files) {
    const lines = await gnuGrep(['-E'], 'ERROR|json', paths);
    if (lines !== '') expected.set(name, lines);
  }

  // grep -c over several files prints file:0 for a file without a match; so does --count per container.
  const countOf = async (pattern: string) => {
    const counts: string[] = [];
    for (const [name, paths] of files) {
      counts.push(`${name}:${(await gnuGrep(['-E'], pattern, paths)).split('\n').length - 1}\n`);
    }
    return counts.sort().join('');
  };
  const counted = await runGrep(['-E', '--count', ...window, 'twice|json'], cacheDir);
  t.equal(counted.code, 0, 'exit 0', { stderr: counted.stderr });
  const counts = await countOf('twice|json');
  t.match(counts, /:0\n/, 'some containers have entries in the window but no match');
  t.match(counts, /:[1-9][0-9]*\n/, 'and some have matches');
  t.equal(counted.stdout, counts, 'a count per container with entries, 0 without a match: grep -c over its files');
  const none = await runGrep(['-E', '--count', ...window, 'no such text'], cacheDir);
  t.equal(none.code, 1, 'no match anywhere: exit 1, as grep -c', { stderr: none.stderr });
  t.equal(none.stdout, await countOf('no such text'), 'and every container counts 0');

  const json = await runGrep(['-E', '--format', 'json', ...window, 'ERROR|json'], cacheDir);
  t.equal(json.code, 0, 'exit 0', { stderr: json.stderr });
  const objects = json.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string>);
  const rebuilt = new Map<string, string>();
  for (const object of objects) {
    const name = `${object.namespace}/${object.pod}/${object.container}`;
    rebuilt.set(name, `${rebuilt.get(name) ?? ''}${object.line}\n`);
    t.ok(object.timestamp && object.stream && object.severity, 'each object is a full entry', { object });
  }
  t.same(rebuilt, expected, 'one JSON object per matching line');

  const out = await testDir(t, 'grep-out');
  const written = await runGrep(['-E', '--out', out, ...window, 'ERROR|json'], cacheDir);
  t.equal(written.code, 0, 'exit 0', { stderr: written.stderr });
  const names = (await readdir(out)).sort();
  t.same(names, [...expected.keys()].map((name) => `${name.replaceAll('/', '_')}.log`).sort(), 'one file per pod');
  for (const [name, lines] of expected) {
    t.equal(await readFile(join(out, `${name.replaceAll('/', '_')}.log`), 'utf8'), lines, `${name}: its lines`);
  }
});

t.test('label selectors and --workload', async (t) => {
  const environment = environmentOf();
  const { yesterday } = environment.fixtures;
  const cacheDir = await testDir(t, 'grep-cache');
  const window = ['--from', `${yesterday}T00`, '--to', `${yesterday}T12`];
  const containers = async (args: string[]) => {
    const run = await runGrep([...args, ...window, '-F', 'action='], cacheDir);
    t.ok(run.code === 0 || run.code === 1, `${args.join(' ')}: runs`, { stderr: run.stderr });
    return [...byContainer(run.stdout).keys()].sort();
  };
  const all = await containers([]);
  // The loader labels each pod app=<its name up to the first dash>.
  const app = (name: string) => (name.split('/')[1] ?? '').split('-')[0];
  t.same(
    await containers(['-l', 'app=web']),
    all.filter((name) => app(name) === 'web'),
    'app=web',
  );
  t.same(
    await containers(['-l', 'app==web']),
    all.filter((name) => app(name) === 'web'),
    'app==web',
  );
  t.same(
    await containers(['-l', 'app!=web']),
    all.filter((name) => app(name) !== 'web'),
    'app!=web',
  );
  t.same(
    await containers(['-l', 'app in (web, report)']),
    all.filter((name) => ['web', 'report'].includes(app(name) ?? '')),
    'app in (web, report)',
  );
  t.same(
    await containers(['-l', 'app notin (web),app']),
    all.filter((name) => app(name) !== 'web'),
    'notin, exists',
  );
  t.same(await containers(['-l', '!app']), [], '!app: every pod has app');
  t.same(await containers(['-l', 'tier=db']), [], 'a label no entry has: no pod has it, and no error');
  t.same(await containers(['-l', 'tier!=db,!example.com/team']), all, 'and every pod lacks it');
  t.same(await containers(['--workload', 'web']), [], 'a workload label the tables do not have: no pod');
  t.same(
    await containers(['--namespace', 'shop', '--container', 'nginx']),
    ['shop/web-7d9f8-abcde/nginx', 'shop/web-7d9f8-fghij/nginx'],
    '--namespace, --container',
  );
});

t.test('fetch -l writes only the pods whose labels match', async (t) => {
  const environment = environmentOf();
  const { yesterday } = environment.fixtures;
  const cacheDir = await testDir(t, 'grep-cache');
  const fetch = async (selector: string) => {
    const out = await testDir(t, 'fetch-out');
    const args = ['nginx', '-l', selector, '--from', `${yesterday}T00`, '--to', `${yesterday}T12`, '--out', out];
    const run = await runCli(['fetch', ...fixtureArgs(environment), '--cache-dir', cacheDir, ...args], {
      forbidFuse: true,
    });
    t.equal(run.code, 0, `-l ${selector}: exit 0`, { stderr: run.stderr });
    return (await readdir(out)).sort();
  };
  t.same(await fetch('app=web'), ['shop_web-7d9f8-abcde_nginx.log', 'shop_web-7d9f8-fghij_nginx.log'], 'app=web');
  t.same(await fetch('app notin (web)'), [], 'app notin (web): no nginx pod');
});

t.test('the connection and cache options also come from BQLOGFS_* and the config file, as for fetch', async (t) => {
  const environment = environmentOf();
  const { yesterday } = environment.fixtures;
  const dir = await testDir(t, 'grep-config');
  const cacheDir = join(dir, 'cache');
  const config = join(dir, 'config.toml');
  await writeFile(config, `[defaults]\ndataset = "logs_partitioned"\ncache-dir = "${cacheDir}"\n`);
  const window = ['--from', `${yesterday}T00`, '--to', `${yesterday}T12`];
  const flags = await runGrep(['-F', 'ERROR', ...window], await testDir(t, 'grep-cache'));
  const configured = await runCli(['grep', '--config', config, '-F', 'ERROR', ...window], {
    forbidFuse: true,
    env: {
      BQLOGFS_PROJECT: 'test-project',
      BQLOGFS_API_ENDPOINT: environment.emulator.url,
      BQLOGFS_READ_API_ENDPOINT: environment.emulator.storageAddress,
    },
  });
  t.equal(configured.code, 0, 'exit 0', { stderr: configured.stderr });
  t.ok(flags.stdout !== '', 'the flags find matches');
  t.equal(configured.stdout, flags.stdout, 'the same lines as with flags');
  t.ok((await readdir(cacheDir)).length > 0, 'the cache directory of the config file was used');
});

t.test('--confirm-above off a terminal fails with the estimate and the flag to pass', async (t) => {
  const environment = environmentOf();
  const cacheDir = await testDir(t, 'grep-cache');
  const before = await serverStats(environment.emulator.url);
  const run = await runGrep(['--confirm-above', '1M', '--since', '3d', 'ERROR'], cacheDir);
  const after = await serverStats(environment.emulator.url);
  t.equal(run.code, 1, 'exit 1');
  t.match(
    run.stderr,
    /would bill about [\d.]+ MiB \(dry run\), above --confirm-above 1\.0 MiB; to run it, pass --confirm-above \d+G/,
  );
  t.equal(after.queries, before.queries, 'no query ran');
  t.equal(after.dryRuns - before.dryRuns, 1, 'only the dry run');
});

/** `bqlogfs <args>` as one bash command line. */
function shellCommand(args: string[]): string {
  return cliCommand(args)
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
    .join(' ');
}

/** Runs `bqlogfs grep` on a terminal (a pty of script(1)) and answers its question with `answer`. */
function grepOnTerminal(args: string[], answer: string): Promise<{ code: number | null; output: string }> {
  const command = shellCommand(['grep', ...fixtureArgs(environmentOf()), ...args]);
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: childEnv() });
  let output = '';
  let answered = false;
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (!answered && output.includes('Run it? [y/N]')) {
      answered = true;
      child.stdin.write(`${answer}\n`);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

t.test('--confirm-above on a terminal asks, and runs only after a yes', async (t) => {
  const environment = environmentOf();
  const cacheDir = await testDir(t, 'grep-cache');
  const { yesterday } = environment.fixtures;
  const args = [
    '--cache-dir',
    cacheDir,
    '--confirm-above',
    '1M',
    '--from',
    `${yesterday}T00`,
    '--to',
    `${yesterday}T12`,
  ];
  const before = await serverStats(environment.emulator.url);
  const declined = await grepOnTerminal([...args, '-F', 'ERROR'], 'n');
  const middle = await serverStats(environment.emulator.url);
  t.match(
    declined.output,
    /would bill about [\d.]+ MiB \(dry run\), above --confirm-above 1\.0 MiB\. Run it\? \[y\/N\]/,
  );
  t.equal(declined.code, 1, 'no: exit 1', { output: declined.output });
  t.match(declined.output, /search not run/);
  t.equal(middle.queries, before.queries, 'no: nothing ran');
  const accepted = await grepOnTerminal([...args, '-F', 'ERROR'], 'y');
  const after = await serverStats(environment.emulator.url);
  t.equal(accepted.code, 0, 'yes: exit 0', { output: accepted.output });
  t.match(accepted.output, /shop\/web-7d9f8-abcde\/app:ERROR delivered twice on stderr/, 'yes: the matches');
  t.equal(after.queries - middle.queries, 1, 'yes: one query');
});

t.test('a reader that stops reading ends grep quietly, as it ends grep', async (t) => {
  const cacheDir = await testDir(t, 'grep-cache');
  const command = shellCommand([
    'grep',
    ...fixtureArgs(environmentOf()),
    '--cache-dir',
    cacheDir,
    '--since',
    '3d',
    'a',
  ]);
  const run = await sh(`set -o pipefail; ${command} | head -n 1`);
  t.equal(run.stdout.split('\n').length, 2, 'one line');
  t.notMatch(run.stderr, /error/i, 'no error', { stderr: run.stderr });
});

t.test('bad input is a usage error, before any query', async (t) => {
  const environment = environmentOf();
  const cacheDir = await testDir(t, 'grep-cache');
  const before = await serverStats(environment.emulator.url);
  const cases: [string[], RegExp][] = [
    [['-E', 'took=('], /not a regular expression grep can run in BigQuery/],
    [['-E', '(a)\\1'], /back-references, which BigQuery's regular expressions \(RE2\) do not have/],
    [['-E', '(?i)error'], /for case-insensitive matching use -i/],
    [['[[:nope:]]'], /unknown character class \[:nope:\]/],
    [['-l', 'app in (web', 'x'], /-l: unbalanced \(/],
    [['-l', 'app=(x)', 'x'], /-l: "\(x\)" is not a valid value for label app/],
    [['-l', 'bad key=x', 'x'], /-l: cannot read "bad key=x"/],
    [['-F', '-E', 'x'], /-F and -E exclude each other/],
    [['--namespace', 'Bad_NS', 'x'], /invalid namespace "Bad_NS"/],
    [['--confirm-above', 'lots', 'x'], /--confirm-above: not a size/],
  ];
  for (const [args, message] of cases) {
    const run = await runGrep(args, cacheDir);
    t.equal(run.code, 2, `${args.join(' ')}: exit 2`, { stderr: run.stderr });
    t.match(run.stderr, message, `${args.join(' ')}: says what is wrong`);
  }
  t.equal((await serverStats(environment.emulator.url)).queries, before.queries, 'nothing was queried');
});

t.test('grep --help says what the patterns are and what they cost', async (t) => {
  const run = await runCli(['grep', '--help']);
  t.equal(run.code, 0);
  t.match(run.stdout, /bqlogfs grep PATTERN/);
  t.match(run.stdout, /RE2/, 'says -E is RE2');
  t.match(run.stdout, /a basic regular expression, as grep's/, 'says what the default is');
  t.match(run.stdout, /--confirm-above <size>[^]*\(default: "100GB"\)/);
  for (const option of ['-l, --selector <selector>', '--workload <name>', '--count', '--out <dir>', '--since']) {
    t.match(run.stdout, option, `shows ${option}`);
  }
});
