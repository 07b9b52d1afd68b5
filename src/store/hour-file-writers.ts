// How bytes go into a cached hour file, for disk-cache.ts, which opens the files and hands these
// writers out: a new file that becomes the hour's file when committed, or the live hour's file
// grown in place and cut back to its old size when abandoned. Both write whole chunks, however
// short the writes of the file system come out. A new file's checksum is computed as it is written.
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { crc32Combine } from './crc32-combine.js';

/**
 * The checksum cached hour files carry: CRC-32 (zlib's, as 8 lowercase hex digits), which catches
 * accidental damage and is cheap enough to check a whole file on its first read.
 */
export class Checksum {
  private value = 0;

  update(bytes: Buffer): void {
    this.value = crc32(bytes, this.value);
  }

  get hex(): string {
    return hex(this.value);
  }
}

/** Bytes covered by each block checksum: a cached file is checked block by block as it is read. */
export const CHECKED_BLOCK_BYTES = 1 << 20;

/**
 * The CRC-32 of each CHECKED_BLOCK_BYTES block of a file (the last one may be shorter), as 8 hex
 * digits each, and that of the whole file, combined from the blocks' without summing it again.
 */
export class BlockChecksums {
  private readonly done: string[] = [];
  private value = 0;
  private filled = 0;
  private wholeOfDone = 0;

  update(bytes: Buffer): void {
    for (let at = 0; at < bytes.length;) {
      const take = Math.min(CHECKED_BLOCK_BYTES - this.filled, bytes.length - at);
      this.value = crc32(bytes.subarray(at, at + take), this.value);
      this.filled += take;
      at += take;
      if (this.filled === CHECKED_BLOCK_BYTES) {
        this.done.push(hex(this.value));
        this.wholeOfDone = crc32Combine(this.wholeOfDone, this.value, CHECKED_BLOCK_BYTES);
        [this.value, this.filled] = [0, 0];
      }
    }
  }

  /** All blocks' checksums, one after the other. */
  get hex(): string {
    return this.done.join('') + (this.filled > 0 ? hex(this.value) : '');
  }

  /** The checksum of everything summed, as Checksum gives it. */
  get wholeHex(): string {
    return hex(crc32Combine(this.wholeOfDone, this.value, this.filled));
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** The checksums of BlockChecksums.hex, one per block. */
export function blockChecksumValues(hex: string): Uint32Array {
  const values = new Uint32Array(hex.length / 8);
  for (let block = 0; block < values.length; block++)
    values[block] = Number.parseInt(hex.slice(block * 8, block * 8 + 8), 16);
  return values;
}

/** An hour file open for reading; its size may grow while it is open, never shrink. */
export interface HourReader {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
  /** The descriptor the reader reads, for reads served without it; open until `close`. */
  descriptor?(): HourDescriptor | undefined;
}

export interface HourDescriptor {
  fd: number;
  /** The file's block checksums (blockChecksumValues of HourFile.blockChecksums) when its bytes are yet to be checked. */
  blockChecksums?: Uint32Array;
  /** Told, by whoever served reads of the descriptor, which blocks matched their checksums: 1 at each. */
  blocksChecked?(checked: Uint8Array): void;
}

/** Reads `length` bytes at `position` into `buffer` at `offset`, fewer only at the end of the file. */
export async function readFully(
  reader: HourReader,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await reader.read(buffer, offset + filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

export function readerOf(handle: FileHandle): HourReader {
  return {
    read: (...args) => handle.read(...args),
    close: () => handle.close(),
    descriptor: () => ({ fd: handle.fd }),
  };
}

/** A new hour file being written, which can be read as far as it is written. */
export interface NewHourFile extends HourFileWriter {
  openWritten(): Promise<HourReader>;
}

/** Writes one hour file. After `commit` or `abandon` it is closed and takes no more calls. */
export interface HourFileWriter {
  /** Bytes in the file: what it had before and what was written since. */
  readonly size: number;
  /** The checksum of the whole file, once committed; undefined for a file appended to. */
  readonly checksum: string | undefined;
  /** Its blocks' checksums (BlockChecksums.hex), once committed; undefined for a file appended to. */
  readonly blockChecksums: string | undefined;
  write(chunk: Buffer): Promise<void>;
  /**
   * Makes the file the hour's file. Not synced to disk: a cache file is checked against the
   * checksums of its manifest by the next process that reads it, so what a crash of the machine
   * damages is fetched again; and a sync of a large hour took longer than a stop may wait, so a
   * daemon stopped right after a read lost the hour it had just fetched.
   */
  commit(): Promise<void>;
  /** Leaves the hour's file as it was before this writer. */
  abandon(): Promise<void>;
}

/** write(2) may write less than asked, e.g. when the disk fills up; the next call then fails. */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += (await handle.write(bytes, offset)).bytesWritten;
  }
}

/** What the cache does with a temporary file: rename it into place, or remove it. */
export interface TemporaryName {
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/** A writer on `handle` that counts from `startSize`; what commit and abandon do besides is the caller's. */
function handleWriter(
  handle: FileHandle,
  startSize: number,
  finish: { afterCommit(): Promise<void>; abandon(): Promise<void> },
  blocks?: BlockChecksums,
): HourFileWriter {
  let size = startSize;
  let checksum: string | undefined;
  let blockChecksums: string | undefined;
  return {
    get size() {
      return size;
    },
    get checksum() {
      return checksum;
    },
    get blockChecksums() {
      return blockChecksums;
    },
    async write(chunk) {
      await writeAll(handle, chunk);
      blocks?.update(chunk);
      size += chunk.length;
    },
    async commit() {
      await handle.close();
      checksum = blocks?.wholeHex;
      blockChecksums = blocks?.hex;
      await finish.afterCommit();
    },
    abandon: () => finish.abandon(),
  };
}

/** A writer of a temporary file (open on `handle`), renamed into place by `name.commit`. */
export function newFileWriter(handle: FileHandle, name: TemporaryName): HourFileWriter {
  return handleWriter(
    handle,
    0,
    {
      afterCommit: () => name.commit(),
      abandon: async () => {
        await handle.close().catch(() => undefined);
        await name.discard();
      },
    },
    new BlockChecksums(),
  );
}

/** A writer that appends to a file (open on `handle` for appending) whose first `wholeSize` bytes stay. */
export function appendingWriter(handle: FileHandle, wholeSize: number): HourFileWriter {
  return handleWriter(handle, wholeSize, {
    afterCommit: async () => undefined,
    abandon: async () => {
      await handle.truncate(wholeSize).catch(() => undefined);
      await handle.close().catch(() => undefined);
    },
  });
}
