// A final hour whose size a sweep's index gave before its file is written (SizedHour). `stat` sees
// the true size at once; a read of what is written of the file is answered from it, and a read
// near the end from the hour's last entries, read on their own from the kept result; any other
// read waits (early-hour-reader.ts). So `head` and `tail` of a cold hour print once the query has
// run, not once all of the hour has been read.
import type { Logger } from 'pino';
import type { TextRow } from '../bigquery/log-warehouse.js';
import type { ContainerRef } from '../model/log-path.js';
import type { DayName } from '../model/time-model.js';
import type { HourFile } from './day-state.js';
import type { LineBody } from './entry-format.js';
import type { HourProgress } from './hour-progress.js';
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
  /** How far its file is written. */
  progress: HourProgress;
  log: Logger | undefined;
}

export class EarlyHour {
  readonly ref: ContainerRef;
  readonly day: DayName;
  readonly hour: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly file: Promise<HourFile | undefined>;
  readonly progress: HourProgress;
  /** Read from its file only (withdraw). */
  withdrawn = false;
  /** The last bytes of the hour, at most TAIL_BYTES and one entry; undefined once they could not be read. */
  private tail: Promise<Buffer | undefined> | undefined;

  constructor(private readonly parts: EarlyHourParts) {
    this.ref = parts.ref;
    this.day = parts.day;
    this.hour = parts.sized.hour;
    this.size = parts.sized.size;
    this.mtimeMs = parts.mtimeMs;
    this.file = parts.file;
    this.progress = parts.progress;
  }

  /**
   * The fetch reads the hour again (from a new sweep, or alone): its end is no longer read from the
   * sweep it was announced by, and nothing but its file is read from now on.
   */
  withdraw(): void {
    this.tail = Promise.resolve(undefined);
    this.withdrawn = true;
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
