// A final hour whose size a sweep's index gave before its file is written (SizedHour). `stat` sees
// the true size at once; a read near the end is answered from the hour's last entries, read on
// their own from the kept result; any other read waits for the file, as before. So `tail` of a cold
// hour prints once the query has run, not once all of the hour has been read.
import type { Logger } from 'pino';
import type { TextRow } from '../bigquery/log-warehouse.js';
import type { ContainerRef } from '../model/log-path.js';
import type { DayName } from '../model/time-model.js';
import type { HourFile } from './day-state.js';
import type { HourReader } from './disk-cache.js';
import type { LineBody } from './entry-format.js';
import { LineBuffer } from './line-buffer.js';
import type { SizedHour } from './sweeps.js';

/** Reads that start at most this far from the end are answered from the hour's last entries. */
export const TAIL_BYTES = 1 << 20;
/** Entries read for the tail beyond those that should cover TAIL_BYTES at the hour's mean entry size. */
const EXTRA_ENTRIES = 64;

export interface EarlyHourParts {
  ref: ContainerRef;
  day: DayName;
  mtimeMs: number;
  sized: SizedHour;
  /** The row's line without its newline, as the hour's file has it. */
  lineOf: (row: TextRow) => LineBody;
  /** The hour's file, once written. */
  file: Promise<HourFile | undefined>;
  log: Logger | undefined;
}

export class EarlyHour {
  readonly early = true;
  readonly ref: ContainerRef;
  readonly day: DayName;
  readonly hour: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly file: Promise<HourFile | undefined>;
  /** The last bytes of the hour, at most TAIL_BYTES and one entry; undefined once they could not be read. */
  private tail: Promise<Buffer | undefined> | undefined;

  constructor(private readonly parts: EarlyHourParts) {
    this.ref = parts.ref;
    this.day = parts.day;
    this.hour = parts.sized.hour;
    this.size = parts.sized.size;
    this.mtimeMs = parts.mtimeMs;
    this.file = parts.file;
  }

  /** The bytes from `position` to the end, if it is near the end and they could be read; else undefined. */
  async bytesFrom(position: number): Promise<Buffer | undefined> {
    const wanted = this.size - position;
    if (wanted > TAIL_BYTES || wanted < 0) return undefined;
    this.tail ??= this.readTail().catch((error: unknown) => {
      this.parts.log?.warn({ err: error, hour: this.hour }, 'the last entries of an hour could not be read first');
      return undefined;
    });
    const tail = await this.tail;
    return tail && tail.length >= wanted ? tail.subarray(tail.length - wanted) : undefined;
  }

  private async readTail(): Promise<Buffer | undefined> {
    const { sized, lineOf } = this.parts;
    const meanEntryBytes = Math.max(1, this.size / Math.max(1, sized.entries));
    const entries = Math.min(sized.entries, Math.ceil(TAIL_BYTES / meanEntryBytes) + EXTRA_ENTRIES);
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let allBytes = 0;
    const collect = async (bytes: Buffer) => {
      kept.push(Buffer.from(bytes));
      keptBytes += bytes.length;
      allBytes += bytes.length;
      while (kept.length > 1 && keptBytes - kept[0]!.length >= TAIL_BYTES) keptBytes -= kept.shift()!.length;
    };
    const lines = new LineBuffer();
    await sized.readLast(entries, async (rows) => {
      for (const row of rows) {
        const writing = lines.add(lineOf(row), collect);
        if (writing) await writing;
      }
    });
    await lines.flush(collect);
    if (allBytes > this.size || (entries === sized.entries && allBytes !== this.size)) {
      this.parts.log?.error(
        { hour: this.hour, expected: this.size, read: allBytes },
        'the size the query gave for an hour does not match its entries; its end is read with the rest',
      );
      return undefined;
    }
    return Buffer.concat(kept);
  }
}

/**
 * Reads an early hour: near the end from its last entries while the file is being written, and
 * everything else from the file once it is; `open` opens the file as the store hands it out.
 */
export function earlyHourReader(
  early: EarlyHour,
  open: (file: HourFile) => Promise<HourReader>,
  /** Told of each read answered from the last entries. */
  readFromEnd: () => void,
): HourReader {
  let whole: Promise<HourReader | undefined> | undefined;
  let written = false;
  void early.file.then(
    () => (written = true),
    () => undefined,
  );
  const wholeFile = () =>
    (whole ??= early.file.then(async (file) => {
      if (!file) return undefined;
      if (file.size !== early.size) {
        throw new Error(`hour ${early.hour} was announced with ${early.size} bytes, but its file has ${file.size}`);
      }
      return open(file);
    }));
  return {
    async read(buffer, offset, length, position) {
      if (position >= early.size) return { bytesRead: 0 };
      const tail = written ? undefined : await early.bytesFrom(position);
      if (tail) {
        readFromEnd();
        return { bytesRead: tail.copy(buffer, offset, 0, Math.min(length, tail.length)) };
      }
      const reader = await wholeFile();
      if (!reader) throw new Error(`hour ${early.hour} was announced, but has no entries`);
      return reader.read(buffer, offset, length, position);
    },
    async close() {
      const opened = whole?.catch(() => undefined);
      // A file still being written is closed once it is there; the release does not wait for it.
      if (written) await (await opened)?.close();
      else void opened?.then((reader) => reader?.close());
    },
  };
}
