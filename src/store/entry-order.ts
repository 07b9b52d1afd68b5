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

function compareStrings(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

export function compareEntryKeys(a: EntryKey, b: EntryKey): number {
  if (a.micros !== b.micros) return a.micros < b.micros ? -1 : 1;
  return compareStrings(a.insertId, b.insertId) || compareStrings(a.stream, b.stream);
}

/**
 * Whether an entry belongs after the last one written to its file. A live hour only grows, so an
 * entry at or before that position (already written, or late for a place readers have seen) waits
 * until the hour is final and written anew.
 */
export function comesAfter(key: EntryKey, last: EntryKey | undefined): boolean {
  return last === undefined || compareEntryKeys(key, last) > 0;
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
