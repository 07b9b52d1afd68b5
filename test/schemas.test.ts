// Other log layouts read the same: a Log Analytics linked dataset (`_AllLogs`) and a table the user
// described in the config file give the very hour files a sink's tables give for the same entries,
// and --cluster keeps only one cluster's entries of a dataset that holds several.
import t, { type Test } from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { runCli, serverArgs } from './support/cli-process.js';
import { mountTemp, testDir, type Daemon } from './support/daemon.js';
import { buildFixtures, expectedFiles, FIXTURE_JSON_FIELDS } from './support/fixtures.js';
import {
  CUSTOM_FIELDS,
  CUSTOM_SCHEMA_TOML,
  CUSTOM_TABLE,
  customRow,
  LOG_ANALYTICS_FIELDS,
  lineWithSortedKeys,
  loadTable,
  logAnalyticsRow,
} from './support/log-schemas.js';
import { sh, shOk } from './support/shell.js';

const PROJECT = 'test-project';
const emulator = await startEmulator({ port: 0 });
const client = emulatorClient(emulator.url, PROJECT);
const fixtures = buildFixtures(Date.now());
const days = [fixtures.oldDay, fixtures.dayBefore, fixtures.yesterday, fixtures.today];
t.teardown(() => emulator.close());

/** Entries of a second cluster: the same containers with other lines, and a namespace of its own. */
const otherCluster: LogEntry[] = fixtures.entries
  .filter((entry) => entry.timestamp.startsWith(fixtures.yesterday))
  .slice(0, 40)
  .map((entry, n) => ({
    ...entry,
    cluster: 'other-cluster',
    insertId: `other-${n}`,
    textPayload: `from the other cluster ${n}`,
    ...(n % 2 === 0 && { namespace: 'only-elsewhere' }),
  }));
/** Not container logs: a Log Analytics view holds every log of the bucket. */
const notContainers: LogEntry[] = fixtures.entries.slice(0, 10).map((entry, n) => ({
  ...entry,
  insertId: `node-${n}`,
  textPayload: `a node's log ${n}`,
}));

const laRows = (entries: LogEntry[]) => entries.map((entry) => logAnalyticsRow(entry, PROJECT));
await loadTable(client, 'la_logs', '_AllLogs', LOG_ANALYTICS_FIELDS, 'timestamp', [
  ...laRows(fixtures.entries),
  ...laRows(fixtures.duplicates),
  ...notContainers.map((entry) => logAnalyticsRow(entry, PROJECT, 'k8s_node')),
]);
await loadTable(client, 'la_two_clusters', '_AllLogs', LOG_ANALYTICS_FIELDS, 'timestamp', [
  ...laRows(fixtures.entries),
  ...laRows(otherCluster),
]);
await loadTable(client, 'custom_logs', CUSTOM_TABLE, CUSTOM_FIELDS, 'time', fixtures.entries.map(customRow));
await createSinkTables(client, 'sink_two_clusters', 'partitioned', days, FIXTURE_JSON_FIELDS);
await insertEntries(client, 'sink_two_clusters', 'partitioned', [...fixtures.entries, ...otherCluster]);

const sinkFiles = expectedFiles(fixtures.entries);
/** JSON columns keep no key order, so their payloads are written with sorted keys. */
const jsonColumnFiles = expectedFiles(fixtures.entries, lineWithSortedKeys);
const listedPaths = (files: Map<string, string>) =>
  [...files.keys()].filter((path) => !path.includes(`/${fixtures.oldDay}/`)).sort();

async function mount(t: Test, args: string[]): Promise<Daemon> {
  return (await mountTemp(t, [...serverArgs(emulator, PROJECT), '--log-level', 'warn', ...args])).daemon;
}

/** Every expected file reads exactly, and listings show exactly the files of the window. */
async function readsExactly(t: Test, daemon: Daemon, files: Map<string, string>): Promise<void> {
  const found = (await shOk('find . -name "*.log" -type f | sed "s|^./||" | sort', daemon.mountpoint)).trim();
  t.same(found.split('\n'), listedPaths(files), 'the listings show the same files');
  let same = 0;
  for (const [path, content] of files) {
    const bytes = await readFile(join(daemon.mountpoint, path), 'utf8');
    if (bytes === content) same++;
    else t.equal(bytes, content, path);
  }
  t.equal(same, files.size, 'every file holds exactly the expected bytes');
}

// Each test has mounts of its own: they run side by side.
t.jobs = 3;

t.test('text lines are the same in every layout; JSON payloads differ only in key order', async (t) => {
  t.same([...jsonColumnFiles.keys()], [...sinkFiles.keys()]);
  for (const [path, content] of sinkFiles) {
    const sorted = jsonColumnFiles.get(path) ?? '';
    const lines = content.split('\n');
    sorted.split('\n').forEach((line, n) => {
      if (line.startsWith('{') && line !== lines[n]) t.same(JSON.parse(line), JSON.parse(lines[n] ?? ''), path);
      else if (line !== lines[n]) t.equal(line, lines[n], path);
    });
  }
});

t.test('a Log Analytics linked dataset, detected by itself', async (t) => {
  const daemon = await mount(t, ['--dataset', 'la_logs', '--log-level', 'info']);
  t.match(daemon.logs(), /"schema":"log-analytics"/, 'auto found the _AllLogs view');
  await readsExactly(t, daemon, jsonColumnFiles);
  const old = `batch/report-28391-xk2p9/worker/${fixtures.oldDay}/03.log`;
  t.equal(await readFile(join(daemon.mountpoint, old), 'utf8'), jsonColumnFiles.get(old), 'a day outside the window');
  const app = 'shop/web-7d9f8-abcde/app';
  const edge = await sh(`grep -c "a node's log" ${app}/${fixtures.yesterday}/10.log`, daemon.mountpoint);
  t.equal(edge.stdout.trim(), '0', 'rows of other resource types are not container logs');
});

t.test('--schema log-analytics and --format json read the JSON columns', async (t) => {
  const daemon = await mount(t, ['--dataset', 'la_logs', '--schema', 'log-analytics', '--format', 'json']);
  const app = 'shop/web-7d9f8-abcde/app';
  const lines = (await readFile(join(daemon.mountpoint, `${app}/${fixtures.yesterday}/10.log`), 'utf8'))
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const json = lines.find((line) => (line.jsonPayload as { message?: string } | undefined)?.message === 'json entry');
  t.match(json, { severity: 'INFO', stream: 'stdout', labels: { k8s_pod_app: 'web' } });
  t.ok(
    lines.some((line) => line.stream === 'stderr'),
    'the stream comes from the log name',
  );
});

t.test('a table described in the config file', async (t) => {
  const dir = await testDir(t, 'config');
  const config = join(dir, 'config.toml');
  await writeFile(config, `[defaults]\ndataset = "custom_logs"\n\n[defaults.schema]\n${CUSTOM_SCHEMA_TOML}`);
  const daemon = await mount(t, ['--config', config, '--log-level', 'info']);
  t.match(daemon.logs(), /"schema":"custom"/);
  await readsExactly(t, daemon, sinkFiles);
});

for (const dataset of ['sink_two_clusters', 'la_two_clusters']) {
  t.test(`--cluster hides the other cluster's entries (${dataset})`, async (t) => {
    const files = dataset.startsWith('la') ? jsonColumnFiles : sinkFiles;
    const daemon = await mount(t, ['--dataset', dataset, '--cluster', 'demo-cluster']);
    await readsExactly(t, daemon, files);
    const all = await mount(t, ['--dataset', dataset]);
    t.match(await shOk('ls', all.mountpoint), /only-elsewhere/, 'without --cluster, both clusters show');
  });
}

t.test('a custom schema that names a missing column fails the mount with what is wrong', async (t) => {
  const dir = await testDir(t, 'config');
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    `[defaults]\ndataset = "custom_logs"\n\n[defaults.schema]\n${CUSTOM_SCHEMA_TOML.replace('"log"', '"message"')}`,
  );
  const mountpoint = await testDir(t, 'mnt');
  const result = await runCli(['mount', mountpoint, '--config', config, ...serverArgs(emulator, PROJECT)]);
  t.not(result.code, 0);
  t.match(result.output, /fluentbit_logs has no column message/);
});
