// Reads of a final hour in the disk cache are answered by the FUSE binding's worker threads from the
// file's descriptor, without a trip to the JS thread (patches/README.md, "Direct reads"): a file this
// daemon wrote as it is, and one an earlier daemon wrote checked block by block against its day's
// manifest first. Whatever the order and offsets of the reads, a tool sees exactly the file the
// inserted rows make, and a damaged block is still caught and its hour fetched again.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogEntry } from '../src/demo/sink-tables.js';
import { serverArgs } from './support/cli-process.js';
import { startDaemon, tempMountDirs } from './support/daemon.js';
import { dayBeforeYesterday, serverWith, sha256Of, timestampInHour } from './support/big-hours.js';
import { shOk } from './support/shell.js';
import { readStats } from './support/stats.js';

const PROJECT = 'direct-reads-project';
const DATASET = 'logs';
const { startMs: D, name: DAY } = dayBeforeYesterday();
const REF = { namespace: 'shop', pod: 'web-0', container: 'app' } as const;
/** The checked blocks of a cached file, and the largest read the kernel sends. */
const BLOCK = 1 << 20;
const MAX_READ = 128 * 1024;
const ENTRIES = { 10: 12_000, 11: 6_000 } as const;
type Hour = keyof typeof ENTRIES;

/** Plain payloads, one entry per distinct microsecond: the file is the payloads in insertion order. */
function hourEntries(hour: Hour): LogEntry[] {
  const count = ENTRIES[hour];
  return Array.from({ length: count }, (_, n) => {
    return {
      ...REF,
      stream: n % 5 === 0 ? 'stderr' : 'stdout',
      timestamp: timestampInHour(D, hour, n, count),
      insertId: `${hour}-${String(n).padStart(6, '0')}`,
      textPayload: `${hour} ${n} ${'z'.repeat(300 + ((n * 37) % 400))}`,
    };
  });
}

const expected = new Map(
  ([10, 11] as const).map((hour) => [
    hour,
    Buffer.from(
      hourEntries(hour)
        .map((entry) => `${entry.textPayload}\n`)
        .join(''),
    ),
  ]),
);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

t.test('reads of cached hours served by the binding give exactly the file, and damage is still caught', async (t) => {
  const { emulator } = await serverWith(t, PROJECT, DATASET, DAY, [...hourEntries(10), ...hourEntries(11)]);
  const { mountpoint, cacheDir } = await tempMountDirs(t);
  const args = [...serverArgs(emulator, PROJECT, DATASET), '--cache-dir', cacheDir];
  const path = (hour: Hour) => join(mountpoint, REF.namespace, REF.pod, REF.container, DAY, `${hour}.log`);
  const big = expected.get(10)!;
  t.ok(big.length > 5 * BLOCK, `hour 10 has ${big.length} bytes, several checked blocks`);
  const directReads = async () => (await readStats(mountpoint)).directReads;

  const first = await startDaemon(args, mountpoint);
  t.teardown(() => first.stop());
  // The mount can show before its log line has come through the pipe.
  await waitFor('the mounted line', async () => first.logs().includes('"msg":"mounted"'));
  t.match(first.logs(), /"directReads":true/, 'the binding serves reads itself');
  t.equal(await sha256Of(path(10)), sha256(big), 'a cold read gives the file');
  const manifest = join(
    (await shOk(`find ${cacheDir} -name 10.log -path '*${REF.pod}*'`)).trim(),
    '..',
    'manifest.json',
  );
  await waitFor('the manifest of both hours', () =>
    readFile(manifest, 'utf8').then(
      (text) => Object.keys((JSON.parse(text) as { hours: object }).hours).length === 2,
      () => false,
    ),
  );
  const beforeWritten = await directReads();
  t.equal(await sha256Of(path(11)), sha256(expected.get(11)!), 'an hour the daemon wrote, opened once written');
  const written = (await directReads()) - beforeWritten;
  t.ok(written >= expected.get(11)!.length / MAX_READ, `was read by the binding's threads (${written} reads)`);
  await first.stop();

  const second = await startDaemon(args, mountpoint);
  t.teardown(() => second.stop());
  const small = expected.get(11)!;
  const slice = (start: number, bytes: number) =>
    shOk(`dd if='${path(11)}' iflag=skip_bytes,count_bytes skip=${start} count=${bytes} status=none | sha256sum`);
  t.equal(
    await slice(BLOCK - 1000, 5000),
    `${sha256(small.subarray(BLOCK - 1000, BLOCK + 4000))}  -\n`,
    'a read across a block boundary of a file to check',
  );
  t.equal(await shOk(`tail -c 777 '${path(11)}' | sha256sum`), `${sha256(small.subarray(-777))}  -\n`, 'its end');
  t.equal(await sha256Of(path(11)), sha256(small), 'and all of it');
  const checkedFiles = async () => (await readStats(mountpoint)).cacheFilesChecked;
  await waitFor('the blocks the binding checked to make the file checked', async () => (await checkedFiles()) === 1);
  t.pass('the blocks the binding checked made the file count as checked, once');

  const beforeChecked = await directReads();
  const together = await shOk(`for i in 1 2 3; do sha256sum < '${path(10)}' & done; wait`);
  t.same(together.trim().split('\n'), Array(3).fill(`${sha256(big)}  -`), 'three readers at once');
  const checked = (await directReads()) - beforeChecked;
  t.ok(checked >= big.length / MAX_READ, `a file an earlier daemon wrote, checked first (${checked} reads)`);
  await waitFor('the second file checked', async () => (await checkedFiles()) === 2);
  t.pass('and so did those of three readers at once');
  await second.stop();

  const cached = join(manifest, '..', '10.log');
  const bytes = await readFile(cached);
  const at = 3 * BLOCK + 12_345;
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0x20, at);
  await writeFile(cached, bytes);
  const third = await startDaemon(args, mountpoint);
  t.teardown(() => third.stop());
  t.equal(await sha256Of(path(10)), sha256(big), 'a flipped byte in the fourth block is never served');
  const warnings = third
    .logs()
    .split('\n')
    .filter((line) => line.includes('does not match the checksum'));
  t.equal(warnings.length, 1, 'the daemon logs the damage once');
  // The kernel releases the damaged file's handle, whose checked blocks the binding then reports,
  // after the reader has closed it: give it the time.
  await sleep(1_000);
  t.equal((await readStats(mountpoint)).cacheFilesChecked, 0, 'the damaged file never counts as checked');
  t.same(await readFile(cached), big, 'and the cache holds the hour whole again');
  await third.stop();
});
