// The order of entries in an hour file and the rules that keep each entry in it once: the query
// sorts by (timestamp, insertId, stream), a sink may deliver an entry twice, and a refetch of a live
// hour delivers again what its file already holds.
import type { RawRow } from '../bigquery/log-warehouse.js';

/** Where an entry sorts: (timestamp, insertId, stream), as the query sorts them. */
export interface EntryKey {
  micros: bigint;
  insertId: string | null;
  stream: string;
}

/** The key of an entries query's row; undefined for a row without a timestamp, which has no place. */
export function entryKeyOf(row: RawRow): EntryKey | undefined {
  const [timestamp, insertId, stream] = row;
  if (timestamp === null || timestamp === undefined) return undefined;
  return { micros: BigInt(timestamp), insertId: insertId ?? null, stream: stream ?? '' };
}

/** Characters whose UTF-16 order differs from their UTF-8 order: surrogates, and U+E000 to U+FFFF. */
const UTF16_ORDER_DIFFERS = /[\uD800-\uFFFF]/;

/** BigQuery's order: NULL first, then strings by their UTF-8 bytes. */
function compareStrings(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (UTF16_ORDER_DIFFERS.test(a) || UTF16_ORDER_DIFFERS.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : 1;
}

export function compareEntryKeys(a: EntryKey, b: EntryKey): number {
  if (a.micros !== b.micros) return a.micros < b.micros ? -1 : 1;
  return compareStrings(a.insertId, b.insertId) || compareStrings(a.stream, b.stream);
}

/** The end of an hour file: its last entry, and how many entries before it share that entry's key. */
export interface FileEnd {
  last: EntryKey;
  /** Entries with the same key as `last`, `last` included: possible only without an insert id. */
  atLast: number;
}

/**
 * Decides, in query order, which entries go into a file that may already hold some (a live hour,
 * fetched again). A live hour only grows, so an entry before its end (already written, or late for a
 * place readers have seen) waits until the hour is final and written anew. Entries with equal keys
 * (same time and stream, no insert id) are distinct entries: the first `atLast` of them at the end
 * are the ones the file holds, and any more are new.
 */
export class FilePosition {
  private toSkip: number;

  constructor(private end: FileEnd | undefined) {
    this.toSkip = end?.atLast ?? 0;
  }

  accepts(key: EntryKey): boolean {
    if (this.end) {
      const order = compareEntryKeys(key, this.end.last);
      if (order < 0) return false;
      if (order === 0) {
        if (this.toSkip > 0) {
          this.toSkip--;
          return false;
        }
        this.end.atLast++;
        return true;
      }
    }
    this.end = { last: key, atLast: 1 };
    this.toSkip = 0;
    return true;
  }

  get fileEnd(): FileEnd | undefined {
    return this.end && { ...this.end };
  }
}

/** A sink may deliver an entry twice: same insertId and timestamp. They sort next to each other. */
export function isDuplicateDelivery(previous: EntryKey | undefined, key: EntryKey): boolean {
  return (
    previous !== undefined &&
    key.insertId !== null &&
    previous.insertId === key.insertId &&
    previous.micros === key.micros
  );
}

/** Drops the second delivery of an entry from a stream of rows in query order. */
export class DuplicateFilter {
  private previous: EntryKey | undefined;

  /** True the first time an entry comes by; false for its repeat right after it. */
  accepts(key: EntryKey): boolean {
    if (isDuplicateDelivery(this.previous, key)) return false;
    this.previous = key;
    return true;
  }

  /** Starts over, for a query that delivers everything again. */
  reset(): void {
    this.previous = undefined;
  }
}
