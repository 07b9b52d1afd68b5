// A live hour's file remembers which entries it holds, so that a refetch appends only new ones. For
// a chatty pod that is a lot of entries: with 700 000 in one hour, their identities as JS strings
// outgrew the daemon's heap (--max-old-space-size=128), and the daemon died with the mount. It must
// serve the hour, and after a refetch append exactly the entries that are new, a late one included.
import t from 'tap';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { serverWith, sha256Of } from './support/big-hours.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { peakRssBytes } from './support/fault-checks.js';

const PROJECT = 'live-memory-project';
const DATASET = 'logs';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const D = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
const HOUR = 10;
const ROWS = 700_000;
const HOUR_START_MICROS = (D + HOUR * HOUR_MS) * 1000;

function timestampOf(micros: number): string {
  const seconds = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

function entryAt(micros: number, insertId: string, textPayload: string): LogEntry {
  return {
    namespace: 'shop',
    pod: 'chatty-0',
    container: 'app',
    stream: 'stdout',
    timestamp: timestampOf(micros),
    insertId,
    textPayload,
  };
}

/** Entry n, 5 ms apart from the hour's start on, with an insertId as long as Cloud Logging's. */
const entryOf = (n: number) =>
  entryAt(HOUR_START_MICROS + 1 + n * 5_000, `k9x2m4p7q1w8${String(n).padStart(8, '0')}`, `line ${n} GET /x 200`);

function* entries(): Generator<LogEntry> {
  for (let n = 0; n < ROWS; n++) yield entryOf(n);
}

t.test('a live hour of 700 000 entries is served, and a refetch appends only the new ones', async (t) => {
  const day = new Date(D).toISOString().slice(0, 10);
  const { emulator, client } = await serverWith(t, PROJECT, DATASET, day, entries());

  // Every hour stays live; a reader's open refetches once the last fetch is a second old.
  const args = [...serverArgs(emulator, PROJECT, DATASET), '--seal-after', '3650d', '--refresh', '1s'];
  const { daemon } = await mountTemp(t, args);
  const file = join(daemon.mountpoint, 'shop', 'chatty-0', 'app', day, `${HOUR}.log`);
  const expected = createHash('sha256');
  for (const entry of entries()) expected.update(`${entry.textPayload}\n`);
  t.equal(await sha256Of(file), expected.copy().digest('hex'), 'the hour’s lines, in order');

  // A late entry (it sorts first), a new last one, and a second delivery of one the file holds.
  const late = entryAt(HOUR_START_MICROS, 'late-entry', 'late: sorts before every line');
  const last = entryAt(HOUR_START_MICROS + ROWS * 5_000 + 1, 'last-entry', 'the newest line');
  await insertEntries(client, DATASET, 'partitioned', [late, last, entryOf(123_456)]);
  await sleep(1_500);
  expected.update(`${late.textPayload}\n${last.textPayload}\n`);
  t.equal(await sha256Of(file), expected.digest('hex'), 'the refetch appended the two new entries, nothing else');

  t.equal(daemon.process.exitCode, null, 'the daemon is still running');
  t.comment(`the daemon's peak RSS: ${((await peakRssBytes(daemon.process.pid!)) / 2 ** 20).toFixed(0)} MiB`);
});
