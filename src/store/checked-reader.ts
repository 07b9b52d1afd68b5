// A reader of a cached hour file this process did not write, checked block by block as it is read:
// each 1 MiB block is read whole, its CRC-32 compared with the one recorded when the file was
// written, and only then are its bytes served, from that same read. The next block is read while
// one is served, so a sequential reader rarely waits for a check. A block that does not match, or
// comes out short, hands the reader over to the hour fetched again (the same bytes, as a final
// hour's never change), so a reader gets the true bytes or an error, never damaged ones. The blocks
// the FUSE binding's threads check as they serve reads of its descriptor count too: once every block
// of a file was found to match, by any of its readers, the file is verified and read unchecked.
import { Buffer } from 'node:buffer';
import { crc32 } from 'node:zlib';
import type { HourFile } from './day-state.js';
import type { HourReader } from './disk-cache.js';
import { blockChecksumValues, CHECKED_BLOCK_BYTES, readFully, type HourDescriptor } from './hour-file-writers.js';

interface HeldBlock {
  buffer: Buffer;
  /** The block's bytes once read and checked; undefined when they do not match. */
  checked: Promise<Buffer | undefined>;
}

/** The file's blocks checked so far, by file. */
const checkedBlocks = new WeakMap<HourFile, Set<number>>();

export class CheckedReader implements HourReader {
  /** Reads are served one at a time, so the held blocks' buffers can be reused safely. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly held = new Map<number, HeldBlock>();
  private readonly spare: Buffer[] = [];
  private replacement: HourReader | undefined;
  private readonly blocks: number;
  private readonly checksums: Uint32Array;

  constructor(
    private readonly source: HourReader,
    /** A file with `blockChecksums`. */
    private readonly file: HourFile,
    /** Removes the damaged file and opens the hour fetched again. */
    private readonly replace: () => Promise<HourReader>,
    /** Told once the file's every block was found to match, by this reader or by others of the file. */
    private readonly onVerified: () => void = () => undefined,
  ) {
    this.blocks = Math.ceil(file.size / CHECKED_BLOCK_BYTES);
    this.checksums = blockChecksumValues(file.blockChecksums ?? '');
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const served = this.queue.then(() => this.serve(buffer, offset, length, position));
    this.queue = served.catch(() => undefined);
    return served;
  }

  /**
   * The file's descriptor, to be checked against its block checksums, until a damaged block is found.
   * The blocks that whoever reads it finds to match count as checked here too.
   */
  descriptor(): HourDescriptor | undefined {
    if (this.replacement) return undefined;
    const source = this.source.descriptor?.();
    if (!source || this.file.blockChecksums === undefined) return undefined;
    return {
      fd: source.fd,
      blockChecksums: this.checksums,
      blocksChecked: (checked) => checked.forEach((good, index) => good === 1 && this.markChecked(index)),
    };
  }

  async close(): Promise<void> {
    await this.queue;
    await this.source.close();
    await this.replacement?.close();
  }

  private async serve(buffer: Buffer, offset: number, length: number, position: number) {
    const end = Math.min(position + length, this.file.size);
    let at = position;
    while (at < end) {
      if (this.replacement) {
        const rest = await this.replacement.read(buffer, offset + (at - position), end - at, at);
        return { bytesRead: at - position + rest.bytesRead };
      }
      const index = Math.floor(at / CHECKED_BLOCK_BYTES);
      const block = await this.block(index);
      if (!block) {
        this.replacement = await this.replace();
        continue;
      }
      const from = at - index * CHECKED_BLOCK_BYTES;
      const take = Math.min(block.length - from, end - at);
      block.copy(buffer, offset + (at - position), from, from + take);
      at += take;
    }
    return { bytesRead: Math.max(0, end - position) };
  }

  /** Block `index`, checked; the next one starts being read too. Blocks before it are let go. */
  private block(index: number): Promise<Buffer | undefined> {
    for (const [held, block] of this.held) {
      if (held === index || held === index + 1) continue;
      this.held.delete(held);
      void block.checked.finally(() => this.spare.push(block.buffer));
    }
    const wanted = this.hold(index);
    if (index + 1 < this.blocks) this.hold(index + 1);
    return wanted.checked;
  }

  private hold(index: number): HeldBlock {
    const found = this.held.get(index);
    if (found) return found;
    const buffer = this.spare.pop() ?? Buffer.allocUnsafe(CHECKED_BLOCK_BYTES);
    const block = { buffer, checked: this.readChecked(index, buffer) };
    this.held.set(index, block);
    return block;
  }

  private async readChecked(index: number, buffer: Buffer): Promise<Buffer | undefined> {
    const start = index * CHECKED_BLOCK_BYTES;
    const size = Math.min(CHECKED_BLOCK_BYTES, this.file.size - start);
    if ((await readFully(this.source, buffer, 0, size, start)) < size) return undefined;
    const bytes = buffer.subarray(0, size);
    if (crc32(bytes) !== this.checksums[index]) return undefined;
    this.markChecked(index);
    return bytes;
  }

  private markChecked(index: number): void {
    if (this.file.verified || index >= this.blocks) return;
    const checked = checkedBlocks.get(this.file) ?? new Set<number>();
    checkedBlocks.set(this.file, checked);
    checked.add(index);
    if (checked.size < this.blocks) return;
    this.file.verified = true;
    this.onVerified();
  }
}
