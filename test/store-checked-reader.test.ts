// A cached hour file read block by block against the checksums recorded when it was written: an
// intact file reads back as it is and counts as checked once every block was; a file damaged in a
// later block, or cut short, hands the reader over to the hour fetched again, so the reader gets
// the true bytes and never a damaged one.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CheckedReader } from '../src/store/checked-reader.js';
import type { HourFile } from '../src/store/day-state.js';
import type { HourReader } from '../src/store/disk-cache.js';
import { BlockChecksums } from '../src/store/hour-file-writers.js';
import { testDir } from './support/daemon.js';

const MIB = 1 << 20;
const content = randomBytes(3 * MIB + 12_345);

async function fileReader(path: string): Promise<HourReader> {
  const handle = await open(path, 'r');
  return {
    read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
    close: () => handle.close(),
    descriptor: () => ({ fd: handle.fd }),
  };
}

function hourFile(): HourFile {
  const blocks = new BlockChecksums();
  // Written in pieces that do not line up with the blocks, as the hour writer's chunks do not.
  for (let at = 0; at < content.length; at += 300_001) blocks.update(content.subarray(at, at + 300_001));
  return {
    ref: { namespace: 'ns', pod: 'pod', container: 'app' },
    day: '2026-11-25',
    hour: 3,
    size: content.length,
    mtimeMs: 0,
    final: true,
    fetchedAtMs: 0,
    blockChecksums: blocks.hex,
    verified: false,
  };
}

/** Reads the whole file in 128 KiB reads, as the kernel does, the first one at `start` when given. */
async function readAll(reader: HourReader, start = 0): Promise<Buffer> {
  const out = Buffer.alloc(content.length);
  const chunk = 128 * 1024;
  const positions: number[] = [];
  for (let at = 0; at < content.length; at += chunk) positions.push(at);
  const first = positions.filter((at) => at >= start);
  for (const at of [...first, ...positions.filter((position) => position < start)]) {
    const buffer = Buffer.alloc(chunk);
    const { bytesRead } = await reader.read(buffer, 0, chunk, at);
    buffer.copy(out, at, 0, bytesRead);
  }
  return out;
}

t.test('block checksums: one per MiB, the last block shorter', async (t) => {
  t.equal(hourFile().blockChecksums?.length, 4 * 8);
});

t.test('an intact file reads back as it is, and counts as checked once all its blocks were', async (t) => {
  const dir = await testDir(t, 'checked');
  const path = join(dir, '03.log');
  await writeFile(path, content);
  const file = hourFile();
  let replaced = 0;
  const reader = new CheckedReader(await fileReader(path), file, async () => {
    replaced++;
    return fileReader(path);
  });
  t.ok((await readAll(reader, 2 * MIB)).equals(content), 'the bytes, read from the third block on and then the rest');
  await reader.close();
  t.equal(replaced, 0, 'nothing replaced');
  t.equal(file.verified, true, 'checked for good');
});

t.test('blocks the FUSE binding checked as it served the descriptor count as checked too', async (t) => {
  const dir = await testDir(t, 'checked');
  const path = join(dir, '03.log');
  await writeFile(path, content);
  const file = hourFile();
  let verified = 0;
  const reader = new CheckedReader(
    await fileReader(path),
    file,
    () => Promise.reject(new Error('nothing is damaged')),
    () => verified++,
  );
  const descriptor = reader.descriptor();
  const expected = Array.from({ length: 4 }, (_, block) =>
    crc32(content.subarray(block * MIB, Math.min(content.length, (block + 1) * MIB))),
  );
  t.same(Array.from(descriptor?.blockChecksums ?? []), expected, 'the descriptor comes with each block’s CRC-32');
  descriptor?.blocksChecked?.(Uint8Array.of(1, 1, 0, 1));
  t.equal(file.verified, false, 'one block was not checked');
  const third = Buffer.alloc(1000);
  await reader.read(third, 0, third.length, 2 * MIB + 5);
  t.ok(third.equals(content.subarray(2 * MIB + 5, 2 * MIB + 1005)), 'the reader checks and serves the third');
  t.equal(file.verified, true, 'then every block was checked');
  t.equal(verified, 1, 'and the file was counted once');
  descriptor?.blocksChecked?.(Uint8Array.of(1, 1, 1, 1));
  t.equal(verified, 1, 'a later report counts it no more');
  await reader.close();
});

for (const [name, damage] of [
  [
    'a flipped byte in a later block',
    async (path: string) => {
      const bytes = Buffer.from(content);
      bytes[2 * MIB + 7] = (bytes[2 * MIB + 7] ?? 0) ^ 0x40;
      await writeFile(path, bytes);
    },
  ],
  ['a file cut short', (path: string) => truncate(path, 2 * MIB + 100)],
] as const) {
  t.test(`${name}: the reader goes over to the hour fetched again and reads the true bytes`, async (t) => {
    const dir = await testDir(t, 'checked');
    const path = join(dir, '03.log');
    const fetchedAgain = join(dir, 'again.log');
    await writeFile(path, content);
    await damage(path);
    let replaced = 0;
    const file = hourFile();
    const reader = new CheckedReader(await fileReader(path), file, async () => {
      replaced++;
      await writeFile(fetchedAgain, content);
      return fileReader(fetchedAgain);
    });
    t.ok((await readAll(reader)).equals(content), 'the true bytes');
    await reader.close();
    t.equal(replaced, 1, 'fetched again once');
    t.equal(file.verified, false, 'the damaged file never counts as checked');
  });
}
