// --tz names day directories and hour files in local time: the same lines as the UTC tree,
// regrouped, none lost or doubled, also across daylight-saving changes.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries, type LogEntry } from '../src/sink-tables.js';
import { removeDir, startDaemon, tempDir } from './support/daemon.js';
import { sh, shOk } from './support/shell.js';
import { localHourKey } from './support/zones.js';

const PROJECT = 'tz-project';
const DATASET = 'tz_logs';
const CONTAINER = 'ops/clock-0/app';
// Entries every 20 minutes around New York's clock changes of 2026 (Mar 8 spring forward, Nov 1 fall back).
const SPANS = [
  { from: Date.UTC(2026, 2, 7, 12), to: Date.UTC(2026, 2, 9, 12) },
  { from: Date.UTC(2026, 9, 31, 12), to: Date.UTC(2026, 10, 2, 12) },
];

function entries(): LogEntry[] {
  const list: LogEntry[] = [];
  for (const { from, to } of SPANS) {
    for (let ms = from; ms < to; ms += 20 * 60_000) {
      const iso = new Date(ms).toISOString();
      list.push({
        namespace: 'ops',
        pod: 'clock-0',
        container: 'app',
        stream: 'stdout',
        timestamp: `${iso.slice(0, 19)}.000000Z`,
        insertId: `at-${ms}`,
        textPayload: `entry at ${iso}`,
      });
    }
  }
  return list;
}

function expectedByPath(zone: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of entries()) {
    const path = `${localHourKey(Date.parse(entry.timestamp), zone)}.log`;
    files.set(path, (files.get(path) ?? '') + `${entry.textPayload}\n`);
  }
  return files;
}

t.test('local time zones', async (t) => {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  const days = ['2026-03-07', '2026-03-08', '2026-03-09', '2026-10-31', '2026-11-01', '2026-11-02'];
  await createSinkTables(client, DATASET, 'partitioned', days, []);
  await insertEntries(client, DATASET, 'partitioned', entries());

  for (const zone of ['Asia/Tokyo', 'America/New_York', 'Asia/Kolkata']) {
    await t.test(zone, async (t) => {
      const mountpoint = await tempDir('mnt');
      const cacheDir = await tempDir('cache');
      const daemon = await startDaemon(
        ['--project', PROJECT, '--dataset', DATASET, '--api-endpoint', emulator.url],
        mountpoint,
        ['--cache-dir', cacheDir, '--tz', zone],
      );
      t.teardown(async () => {
        await daemon.stop();
        await removeDir(mountpoint);
        await removeDir(cacheDir);
      });
      const expected = expectedByPath(zone);
      const localDays = [...new Set([...expected.keys()].map((path) => path.slice(0, 10)))].sort();
      for (const day of localDays) {
        const wanted = [...expected.keys()]
          .filter((path) => path.startsWith(day))
          .map((path) => path.slice(11))
          .sort();
        const listed = (await shOk(`ls ${CONTAINER}/${day}`, mountpoint)).trim().split('\n').filter(Boolean);
        t.same(listed, wanted, `${day} lists its local hours`);
      }
      let lines = 0;
      for (const [path, content] of expected) {
        const found = await readFile(join(mountpoint, CONTAINER, path), 'utf8');
        t.equal(found, content, path);
        lines += found.split('\n').length - 1;
      }
      t.equal(lines, entries().length, 'every entry exactly once');
      if (zone === 'America/New_York') {
        const repeated = await readFile(join(mountpoint, CONTAINER, '2026-11-01/01.log'), 'utf8');
        t.equal(repeated.split('\n').length - 1, 6, 'the repeated hour 01 holds both hours, in order');
        const skipped = await sh(`cat ${CONTAINER}/2026-03-08/02.log`, mountpoint);
        t.match(skipped.stderr, /No such file/, 'the skipped hour 02 does not exist');
      }
    });
  }
});
