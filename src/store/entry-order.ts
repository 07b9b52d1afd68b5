// The order of entries in an hour file and the rules that keep each entry in it once: the query
// sorts by (timestamp, insertId, stream), a sink may deliver an entry twice, and a refetch of a live
// hour delivers again what its file already holds, along with entries that arrived late.
import type { TextRow } from '../bigquery/log-warehouse.js';
import { textOf } from '../bigquery/utf8-text.js';
import { FingerprintCounts, FingerprintList, fingerprintOf } from './fingerprint-counts.js';

/** Where an entry sorts: (timestamp, insertId, stream), as the query sorts them. */
export interface EntryKey {
  micros: bigint;
  insertId: string | null;
  stream: string;
}

/** The key of an entries query's row; undefined for a row without a timestamp, which has no place. */
export function entryKeyOf(row: TextRow): EntryKey | undefined {
  const [timestamp, insertId, stream] = row;
  if (timestamp === null || timestamp === undefined) return undefined;
  return { micros: BigInt(textOf(timestamp)), insertId: textOf(insertId) ?? null, stream: textOf(stream) ?? '' };
}

/**
 * entryKeyOf written into `key` instead of a new object, for a reader that keeps no key past its
 * row; false for a row without a timestamp.
 */
export function readEntryKey(row: TextRow, key: EntryKey): boolean {
  const [timestamp, insertId, stream] = row;
  if (timestamp === null || timestamp === undefined) return false;
  key.micros = BigInt(textOf(timestamp));
  key.insertId = textOf(insertId) ?? null;
  key.stream = textOf(stream) ?? '';
  return true;
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

/**
 * What tells two entries of one file apart: the key, in a workload directory the pod, and for an
 * entry without an insert id its line too. Entries with equal identities (same time, stream and
 * line, no insert id) are distinct entries all the same.
 */
export function entryIdentity(key: EntryKey, pod: string | undefined, line: string): string {
  return JSON.stringify([String(key.micros), key.insertId, key.stream, pod ?? null, key.insertId === null ? line : 0]);
}

/**
 * The entries a live hour's file holds, by identity and how many of each. A live hour only grows: a
 * fetch appends every entry its file does not hold yet, including one that sorts before the file's
 * last line (it arrived late), so that a follower sees it; the hour is put in order when it is final.
 * Identities are kept as fingerprints (fingerprint-counts.ts), so that an hour of a million entries
 * costs about 24 MB outside the JS heap rather than more than the heap has.
 */
export class HeldEntries {
  private readonly counts = new FingerprintCounts();

  /** Starts checking one fetch's rows of the hour against what the file holds. */
  pass(): EntryPass {
    return new EntryPass(this.counts);
  }
}

/**
 * One fetch's check of an hour's rows against its file. An entry with an insert id comes once (the
 * second delivery of an entry is dropped before): it is new unless the file holds it. Of entries
 * without one that share an identity, the first as many as the file holds are in it, any more are
 * new. What it accepts counts as held at once; `rollback` forgets it again, for a file cut back to
 * what it had.
 */
export class EntryPass {
  /** How often this fetch delivered each identity of an entry without an insert id. */
  private readonly delivered = new FingerprintCounts();
  private readonly added = new FingerprintList();
  private readonly fingerprint = new Uint32Array(2);

  constructor(private readonly counts: FingerprintCounts) {}

  /** True for an entry the file does not hold yet, which is then counted as held. */
  accepts(key: EntryKey, identity: string): boolean {
    fingerprintOf(identity, this.fingerprint);
    const high = this.fingerprint[0]!;
    const low = this.fingerprint[1]!;
    const nth = key.insertId === null ? this.delivered.increment(high, low) : 1;
    if (nth <= this.counts.get(high, low)) return false;
    this.counts.set(high, low, nth);
    this.added.push(high, low);
    return true;
  }

  /** Forgets every entry this pass accepted. */
  rollback(): void {
    this.added.forEach((high, low) => this.counts.set(high, low, Math.max(0, this.counts.get(high, low) - 1)));
    this.added.clear();
    this.delivered.clear();
  }
}

/** A sink may deliver an entry twice: same insertId and timestamp. They sort next to each other. */
export function isDuplicateDelivery(
  previous: Pick<EntryKey, 'micros' | 'insertId'> | undefined,
  key: EntryKey,
): boolean {
  return (
    previous !== undefined &&
    key.insertId !== null &&
    previous.insertId === key.insertId &&
    previous.micros === key.micros
  );
}

/**
 * Drops the second delivery of an entry from a stream of rows in query order. It keeps what it needs
 * of the entry before, not its key, which may be written over (readEntryKey).
 */
export class DuplicateFilter {
  private previous: { micros: bigint; insertId: string | null } | undefined;

  /** True the first time an entry comes by; false for its repeat right after it. */
  accepts(key: EntryKey): boolean {
    if (isDuplicateDelivery(this.previous, key)) return false;
    if (this.previous) [this.previous.micros, this.previous.insertId] = [key.micros, key.insertId];
    else this.previous = { micros: key.micros, insertId: key.insertId };
    return true;
  }

  /** Starts over, for a query that delivers everything again. */
  reset(): void {
    this.previous = undefined;
  }
}
