// An early hour and its reader on their own: what they serve, and what they refuse to serve, when
// the size the sweep gave cannot be trusted any more or the reader is released while it waits.
import t from 'tap';
import type { TextRow } from '../src/bigquery/log-warehouse.js';
import type { HourFile } from '../src/store/day-state.js';
import { deferred } from '../src/store/deferred.js';
import { EarlyHour, TAIL_BYTES } from '../src/store/early-hour.js';
import { earlyHourReader } from '../src/store/early-hour-reader.js';
import { lineBodyFormatter } from '../src/store/entry-format.js';
import type { HourReader } from '../src/store/hour-file-writers.js';
import { HourProgress } from '../src/store/hour-progress.js';
import type { SizedHour } from '../src/store/sweeps.js';

const REF = { namespace: 'shop', pod: 'web-1', container: 'app' };
const lineOf = lineBodyFormatter({ format: 'text', timestamps: false });

/** Entry rows of an entries query for `payloads`, as the sweep hands them over. */
function rowsOf(payloads: string[]): TextRow[] {
  return payloads.map((text, n) => [String(1_000_000 + n), `id-${n}`, 'stdout', text, null]);
}

function fileOf(payloads: string[]): Buffer {
  return Buffer.from(payloads.map((text) => `${text.replace(/\n$/, '')}\n`).join(''));
}

/** An early hour of `payloads`, announced with `size` (their true size unless given). */
function earlyHourOf(payloads: string[], size = fileOf(payloads).length) {
  const lastReads: number[] = [];
  const sized: SizedHour = {
    hour: 10,
    size,
    entries: payloads.length,
    async readLast(count, deliver) {
      lastReads.push(count);
      await deliver(rowsOf(payloads.slice(-count)));
    },
  };
  const file = deferred<HourFile | undefined>();
  const progress = new HourProgress();
  const early = new EarlyHour({
    ref: REF,
    day: '2026-03-09',
    mtimeMs: 0,
    sized,
    lineOf,
    file: file.promise,
    progress,
    log: undefined,
  });
  return { early, file, progress, lastReads };
}

const PAYLOADS = Array.from({ length: 6_000 }, (_, n) => `entry ${n} ${'é'.repeat(n % 700)}\n`);

t.test('the end comes from the last entries, as many as cover TAIL_BYTES', async (t) => {
  const { early, lastReads } = earlyHourOf(PAYLOADS);
  const whole = fileOf(PAYLOADS);
  t.ok(whole.length > 2 * TAIL_BYTES);
  t.same(await early.bytesFrom(whole.length - 100), whole.subarray(-100));
  t.same(await early.bytesFrom(whole.length - TAIL_BYTES), whole.subarray(-TAIL_BYTES));
  t.equal(await early.bytesFrom(whole.length - TAIL_BYTES - 1), undefined, 'farther from the end: not early');
  t.equal(lastReads.length, 1, 'the last entries are read once');
  t.ok(lastReads[0]! < PAYLOADS.length);
});

t.test('a size the entries do not add up to is not trusted for the end', async (t) => {
  const small = PAYLOADS.slice(0, 20);
  const { early } = earlyHourOf(small, fileOf(small).length + 1);
  t.equal(await early.bytesFrom(10), undefined, 'all entries were read and their bytes differ: nothing early');
});

t.test('a withdrawn early hour is read from its file only, and fails if the file has another size', async (t) => {
  const { early, file, progress, lastReads } = earlyHourOf(PAYLOADS);
  early.withdraw();
  t.equal(await early.bytesFrom(early.size - 10), undefined, 'no end from the old sweep');
  t.same(lastReads, []);
  const reader = earlyHourReader(
    early,
    () => Promise.reject(new Error('not opened')),
    () => undefined,
  );
  progress.start(() => Promise.reject(new Error('the old writing is not read')));
  progress.advance(early.size);
  const read = reader.read(Buffer.alloc(10), 0, 10, 0);
  const size = early.size + 5;
  file.resolve({
    ref: REF,
    day: '2026-03-09',
    hour: 10,
    size,
    mtimeMs: 0,
    final: true,
    fetchedAtMs: 0,
    verified: true,
  });
  await t.rejects(read, /announced with \d+ bytes, but its file has \d+/);
});

t.test('what is written is read from the file being written; a release while waiting opens nothing', async (t) => {
  const { early, file, progress } = earlyHourOf(PAYLOADS);
  const whole = fileOf(PAYLOADS);
  const opened: string[] = [];
  const readerOver = (bytes: Buffer, name: string): HourReader => {
    opened.push(name);
    return {
      read: async (buffer, offset, length, position) => {
        const part = bytes.subarray(position, position + length);
        return { bytesRead: part.copy(buffer, offset) };
      },
      close: async () => void opened.push(`closed ${name}`),
    };
  };
  let earlyReads = 0;
  const reader = earlyHourReader(
    early,
    async () => readerOver(whole, 'file'),
    () => earlyReads++,
  );
  const buffer = Buffer.alloc(4096);
  const first = reader.read(buffer, 0, 4096, 0);
  progress.start(async () => readerOver(whole.subarray(0, 10_000), 'written'));
  progress.advance(10_000);
  t.equal((await first).bytesRead, 4096);
  t.same(buffer, whole.subarray(0, 4096), 'from the part written');
  t.equal(earlyReads, 1);
  const waiting = reader.read(buffer, 0, 4096, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await reader.close();
  await t.rejects(
    (async () => {
      progress.advance(30_000);
      return waiting;
    })(),
    /read after release/,
  );
  file.resolve({
    ref: REF,
    day: '2026-03-09',
    hour: 10,
    size: whole.length,
    mtimeMs: 0,
    final: true,
    fetchedAtMs: 0,
    verified: true,
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(opened, ['written', 'closed written'], 'the finished file was never opened');
});
