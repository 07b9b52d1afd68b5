// The checksum of a whole cached file, combined from its blocks' checksums, is zlib's CRC-32 of all
// its bytes, whatever its size against the block size.
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import t from 'tap';
import { crc32Combine } from '../src/store/crc32-combine.js';
import { BlockChecksums, CHECKED_BLOCK_BYTES, Checksum } from '../src/store/hour-file-writers.js';

t.test('crc32Combine gives the CRC-32 of the two pieces put together', async (t) => {
  const bytes = randomBytes(70_000);
  for (const cut of [0, 1, 2, 3, 7, 8, 1000, 4096, 65_535, 69_999, 70_000]) {
    const [first, second] = [bytes.subarray(0, cut), bytes.subarray(cut)];
    t.equal(crc32Combine(crc32(first), crc32(second), second.length), crc32(bytes), `cut at ${cut}`);
  }
});

t.test('a file written in pieces of any size: the whole checksum is that of its bytes', async (t) => {
  for (const size of [
    0,
    1,
    CHECKED_BLOCK_BYTES - 1,
    CHECKED_BLOCK_BYTES,
    CHECKED_BLOCK_BYTES + 1,
    3.5 * CHECKED_BLOCK_BYTES,
  ]) {
    const bytes = randomBytes(size);
    const blocks = new BlockChecksums();
    for (let at = 0, step = 1; at < size; at += step, step = ((step * 7 + 3) % 300_000) + 1) {
      blocks.update(bytes.subarray(at, at + step));
    }
    const whole = new Checksum();
    whole.update(bytes);
    t.equal(blocks.wholeHex, whole.hex, `${size} bytes`);
    t.equal(blocks.hex.length, 8 * Math.ceil(size / CHECKED_BLOCK_BYTES), `${size} bytes: a checksum per block`);
  }
});
