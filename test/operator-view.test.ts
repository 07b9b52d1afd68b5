// What an operator looks at besides the logs: the stats file right after a read, the daemon's own
// log lines, and directory times that show which pods were active last.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { datasetFor, fileEnvironment, mountFixtures, PROJECT } from './support/environment.js';
import { shOk } from './support/shell.js';
import { settledStats, type MountStatsFile } from './support/stats.js';

const currentEnvironment = fileEnvironment(t);
t.jobs = 2;

const APP = 'shop/web-7d9f8-abcde/app';

t.test('.bqlogfs/stats shows the query a read just ran, with no wait', async (t) => {
  const { daemon } = await mountFixtures(t, currentEnvironment());
  const { fixtures } = currentEnvironment();
  // Listed once, so the read below sends only the query for its day and is quick: the first look
  // at the stats leaves their name in the kernel's cache for a second, and the second look opens it.
  await shOk(`ls ${APP}`, daemon.mountpoint);
  const started = Date.now();
  const output = await shOk(
    `cat .bqlogfs/stats; echo '---'; cat ${APP}/${fixtures.yesterday}/10.log > /dev/null; cat .bqlogfs/stats`,
    daemon.mountpoint,
  );
  t.comment(`took ${Date.now() - started} ms`);
  const [before, after] = output.split('---\n').map((text) => JSON.parse(text) as MountStatsFile);
  if (!before || !after) throw new Error(`two copies of the stats expected:\n${output}`);
  t.equal(before.recentQueries.length, 1, 'before the read, only the listing');
  t.ok(after.queries > before.queries, `right after it, ${after.queries} queries`);
  t.ok(after.bytesBilled > before.bytesBilled, `billing ${after.bytesBilled} bytes`);
  t.ok(after.reads > 0, `and ${after.reads} reads served`);
});

t.test('at info, one line at start and one per query', async (t) => {
  const { daemon, cacheDir } = await mountFixtures(t, currentEnvironment());
  const { fixtures } = currentEnvironment();
  await shOk(`cat ${APP}/${fixtures.dayBefore}/*.log > /dev/null`, daemon.mountpoint);
  const stats = await settledStats(daemon.mountpoint);
  const lines = daemon
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

  const started = lines.filter((line) => line.msg === 'mounted');
  t.equal(started.length, 1, 'one startup line');
  const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  t.match(
    started[0],
    {
      level: 30,
      version,
      project: PROJECT,
      dataset: datasetFor('partitioned'),
      layout: 'partitioned',
      mountpoint: daemon.mountpoint,
      cacheDir,
      caps: { maxConcurrentQueries: Number, cacheMaxBytes: Number },
    },
    'with version, project, dataset, layout, cache and caps',
  );

  const queryLines = lines.filter((line) => typeof line.jobId === 'string' && line.level === 30);
  t.equal(queryLines.length, stats.queries, `one info line for each of the ${stats.queries} queries`);
  for (const query of stats.recentQueries) {
    const line = queryLines.find((candidate) => candidate.jobId === query.jobId);
    t.match(
      line,
      {
        kind: query.kind,
        subject: query.subject === '' ? 'last 7d' : query.subject,
        rows: query.rows,
        bytesBilled: query.bytesBilled,
        durationMs: Number,
      },
      `${query.kind} ${query.subject}: ${line?.msg as string}`,
    );
  }
  t.ok(
    stats.recentQueries.some((query) => query.subject.includes(fixtures.dayBefore) && query.rows > 0),
    'the read of the day is among them',
  );
  t.notMatch(daemon.logs(), /bearer|access_token|refresh_token|client_secret/i, 'no credentials');
});

t.test('directory times are those of their latest entry: ls -t shows the pods active last', async (t) => {
  const environment = currentEnvironment();
  const { fixtures } = environment;
  // Two pods whose last entries fall in the same hour, minutes apart; the one that logged last sorts
  // second by name, so only the times can put it first.
  const yesterday = (time: string) => `${fixtures.yesterday}T${time}Z`;
  const rollout: LogEntry[] = [
    ['worker-a', '13:58:00.000000'],
    ['worker-a', '14:07:12.345678'],
    ['worker-b', '14:02:30.000000'],
    ['worker-b', '14:41:09.500001'],
  ].map(([pod = '', time = ''], index) => ({
    namespace: 'rollout',
    pod,
    container: 'main',
    stream: 'stdout',
    timestamp: yesterday(time),
    insertId: `rollout-${index}`,
    textPayload: `${pod} at ${time}`,
  }));
  await insertEntries(environment.client, datasetFor('partitioned'), 'partitioned', rollout);
  const { daemon } = await mountFixtures(t, environment);
  const namespaces = (await shOk('ls', daemon.mountpoint)).split('\n').filter(Boolean);

  // The time of each directory's latest entry, to the millisecond as the mount gives it.
  const latest = new Map<string, number>();
  for (const entry of [...fixtures.entries, ...rollout]) {
    if (entry.timestamp.startsWith(fixtures.oldDay)) continue;
    const entryMs = Date.parse(entry.timestamp);
    const day = entry.timestamp.slice(0, 10);
    const { namespace, pod, container } = entry;
    for (const dir of [
      namespace,
      `${namespace}/${pod}`,
      `${namespace}/${pod}/${container}`,
      `${namespace}/${pod}/${container}/${day}`,
    ]) {
      latest.set(dir, Math.max(latest.get(dir) ?? 0, entryMs));
    }
  }
  const newestFirst = (dirs: string[]) =>
    [...dirs].sort((a, b) => (latest.get(b) ?? 0) - (latest.get(a) ?? 0) || (a < b ? -1 : 1));

  t.same((await shOk('ls -t', daemon.mountpoint)).split('\n').filter(Boolean), newestFirst(namespaces), 'ls -t');
  for (const namespace of namespaces) {
    const pods = (await shOk(`ls ${namespace}`, daemon.mountpoint)).split('\n').filter(Boolean);
    const byTime = (await shOk(`ls -t ${namespace}`, daemon.mountpoint)).split('\n').filter(Boolean);
    t.same(
      byTime.map((pod) => `${namespace}/${pod}`),
      newestFirst(pods.map((pod) => `${namespace}/${pod}`)),
      `ls -t ${namespace}`,
    );
  }
  t.same(
    (await shOk('ls -t rollout', daemon.mountpoint)).split('\n').filter(Boolean),
    ['worker-b', 'worker-a'],
    'the pod that logged last comes first, though both last logged in the same hour',
  );
  for (const [dir, entryMs] of latest) {
    const seconds = Number((await shOk(`stat -c %Y '${dir}'`, daemon.mountpoint)).trim());
    t.equal(seconds, Math.floor(entryMs / 1000), `${dir}: ${new Date(entryMs).toISOString()}, its latest entry`);
  }
  const dots = (await shOk(`ls -a ${APP}`, daemon.mountpoint)).split('\n').slice(0, 2);
  t.same(dots, ['.', '..'], 'ls -a shows . and ..');
});
