// What an operator looks at besides the logs: the stats file right after a read, the daemon's own
// log lines, and directory times that show which pods were active last.
import t from 'tap';
import { readFile } from 'node:fs/promises';
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
