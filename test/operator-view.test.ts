// What an operator looks at besides the logs: the stats file right after a read, the daemon's own
// log lines, and directory times that show which pods were active last.
import t from 'tap';
import { fileEnvironment, mountFixtures } from './support/environment.js';
import { shOk } from './support/shell.js';
import type { MountStatsFile } from './support/stats.js';

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
