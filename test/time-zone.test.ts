// --tz names day directories and hour files in local time: the same lines as the UTC tree,
// regrouped, none lost or doubled, also across daylight-saving changes.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { sh, shOk } from './support/shell.js';
import { entriesEveryTwentyMinutes, localHourKey } from './support/zones.js';

const PROJECT = 'tz-project';
const DATASET = 'tz_logs';
const CONTAINER = 'ops/clock-0/app';
// Around New York's clock changes of 2026 (Mar 8 spring forward, Nov 1 fall back).
const ENTRIES = entriesEveryTwentyMinutes(['2026-03-07T12:00:00Z', '2026-10-31T12:00:00Z']);

function expectedByPath(zone: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of ENTRIES) {
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
  await insertEntries(client, DATASET, 'partitioned', ENTRIES);

  // Each zone has a mount of its own: they run side by side.
  t.jobs = 3;
  for (const zone of ['Asia/Tokyo', 'America/New_York', 'Asia/Kolkata']) {
    t.test(zone, async (t) => {
      const { mountpoint } = (await mountTemp(t, [...serverArgs(emulator, PROJECT, DATASET), '--tz', zone])).daemon;
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
      t.equal(lines, ENTRIES.length, 'every entry exactly once');
      if (zone === 'America/New_York') {
        const repeated = await readFile(join(mountpoint, CONTAINER, '2026-11-01/01.log'), 'utf8');
        t.equal(repeated.split('\n').length - 1, 6, 'the repeated hour 01 holds both hours, in order');
        const skipped = await sh(`cat ${CONTAINER}/2026-03-08/02.log`, mountpoint);
        t.match(skipped.stderr, /No such file/, 'the skipped hour 02 does not exist');
      }
    });
  }

  // With --timestamps, each line starts with the local time and the offset in force at that entry,
  // which differs within the repeated hour; `date` (the C library's zone data) says what they are.
  for (const zone of ['Asia/Tokyo', 'America/New_York']) {
    t.test(`${zone} --timestamps`, async (t) => {
      const args = [...serverArgs(emulator.url, PROJECT, DATASET), '--tz', zone, '--timestamps'];
      const { mountpoint } = (await mountTemp(t, args)).daemon;
      const instants = ENTRIES.map((entry) => `@${Date.parse(entry.timestamp) / 1000}`).join('\n');
      const stamps = (await shOk(`printf '${instants}\\n' | TZ=${zone} date -f - +%Y-%m-%dT%H:%M:%S.000000%:z`))
        .trim()
        .split('\n');
      const expected = new Map<string, string>();
      ENTRIES.forEach((entry, index) => {
        const path = `${localHourKey(Date.parse(entry.timestamp), zone)}.log`;
        expected.set(path, (expected.get(path) ?? '') + `${stamps[index]} ${entry.textPayload}\n`);
      });
      for (const [path, content] of expected) {
        const file = join(mountpoint, CONTAINER, path);
        t.equal(await readFile(file, 'utf8'), content, path);
        const size = Number((await shOk(`stat -c %s '${file}'`)).trim());
        t.equal(size, Buffer.byteLength(content), `${path}: st_size is the bytes served`);
      }
      if (zone === 'America/New_York') {
        const repeated = expected.get('2026-11-01/01.log') ?? '';
        t.match(repeated, /-04:00 .*\n.*-05:00 /s, 'the repeated hour shows both offsets');
      }
    });
  }
});
