// --timestamps and --format json change every line, and get a cache of their own.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileEnvironment, mountFixtures } from './support/environment.js';
import { compactWithoutNulls, expectedFiles, lineOf } from './support/fixtures.js';

const currentEnvironment = fileEnvironment(t);
// Each test has mounts of its own and spends most of its time waiting on them: they run side by side.
t.jobs = 2;

t.test('--timestamps starts each entry with its RFC 3339 timestamp', async (t) => {
  const environment = currentEnvironment();
  const { daemon } = await mountFixtures(t, environment, ['--timestamps']);
  const files = expectedFiles(environment.fixtures.entries, (entry) => `${entry.timestamp} ${lineOf(entry)}`);
  const edge = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  t.equal(await readFile(join(daemon.mountpoint, edge), 'utf8'), files.get(edge));
  t.match(files.get(edge) ?? '', /^\d{4}-\d\d-\d\dT10:00:00\.000000Z first entry/);
});

t.test('--format json writes one full entry per line', async (t) => {
  const environment = currentEnvironment();
  const { daemon } = await mountFixtures(t, environment, ['--format', 'json']);
  const edge = `shop/web-7d9f8-abcde/app/${environment.fixtures.yesterday}/10.log`;
  const lines = (await readFile(join(daemon.mountpoint, edge), 'utf8')).split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const inHour = [
    ...new Map(
      environment.fixtures.entries
        .filter((entry) => entry.pod === 'web-7d9f8-abcde' && entry.container === 'app')
        .filter((entry) => entry.timestamp.startsWith(`${environment.fixtures.yesterday}T10`))
        .map((entry) => [`${entry.timestamp}|${entry.insertId}`, entry]),
    ).values(),
  ];
  t.equal(entries.length, inHour.length, 'one line per entry, duplicates once');
  for (const entry of inHour) {
    const found = entries.find((line) => line.insertId === entry.insertId);
    t.ok(found, `entry ${entry.insertId}`);
    t.equal(found?.timestamp, entry.timestamp);
    t.equal(found?.stream, entry.stream);
    t.equal(found?.severity, entry.stream === 'stderr' ? 'ERROR' : 'INFO');
    t.same(found?.labels, { k8s_pod_app: 'web' });
    if (entry.textPayload !== undefined) t.equal(found?.textPayload, entry.textPayload);
    else t.same(found?.jsonPayload, compactWithoutNulls(entry.jsonPayload));
  }
});
