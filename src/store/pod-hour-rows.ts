// One pod's rows of one hour in kept sweep results, read a page at a time, for the merge of a
// workload's hour: the merge holds a page per pod, never a pod's whole hour, so a workload hour of
// any size fits the daemon's heap.
import type { QueryResult, RawRow } from '../bigquery/log-warehouse.js';
import { entryKeyOf, type EntryKey } from './entry-order.js';

/** Rows of one result, in file order. */
export interface RowSpan {
  result: QueryResult;
  start: number;
  count: number;
}

/**
 * Runs reads one after another, in the order asked: a workload's merge then has one read of the kept
 * result in flight, however many pods it has, while it merges the pages already read. Once a read
 * failed, the reads still waiting fail with it, without reading.
 */
export class ReadQueue {
  private last: Promise<unknown> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  run<T>(read: () => Promise<T>): Promise<T> {
    const next = this.last.then(() => {
      if (this.failure) throw this.failure.error;
      return read();
    });
    this.last = next.catch((error: unknown) => {
      this.failure ??= { error };
    });
    return next;
  }
}

/** A pod's rows at hand, in file order, with their keys: the one the merge is at, and those after it. */
export abstract class HeldRows {
  private rows: RawRow[] = [];
  private keys: (EntryKey | undefined)[] = [];
  private next = 0;

  abstract readonly pod: string;

  /** Makes a row current, reading more once those at hand are used up; false when the pod has no rows left. */
  abstract ensureRow(): Promise<boolean>;

  /** The current row; ensureRow must have returned true. */
  get row(): RawRow {
    return this.rows[this.next]!;
  }

  /** The current row's key (undefined for a row without a timestamp). */
  get key(): EntryKey | undefined {
    return this.keys[this.next];
  }

  advance(): void {
    this.next++;
  }

  /** Every row at hand has been merged. */
  protected get usedUp(): boolean {
    return this.next === this.rows.length;
  }

  /** Replaces the rows at hand. */
  protected hold(rows: RawRow[]): void {
    [this.rows, this.keys, this.next] = [rows, rows.map(entryKeyOf), 0];
  }
}

export class PodHourRows extends HeldRows {
  private ahead: Promise<RawRow[]> | undefined;
  /** The span being read, and how many of its rows were read. */
  private span = 0;
  private readInSpan = 0;

  constructor(
    readonly pod: string,
    private readonly spans: readonly RowSpan[],
    private readonly pageRows: number,
    private readonly queue: ReadQueue,
    /** The pod's row as the merge hands it on (its entry columns). */
    private readonly entryOf: (row: RawRow) => RawRow,
  ) {
    super();
  }

  /**
   * Moves to the next page once the current one is used up; false when the pod has no rows left.
   * The page after it is read meanwhile (in the merge's queue of reads), so that the merge seldom
   * waits for a read.
   */
  async ensureRow(): Promise<boolean> {
    while (this.usedUp) {
      const page = this.ahead ?? this.readPage();
      this.ahead = undefined;
      if (!page) return false;
      this.hold(await page);
      this.ahead = this.readPage();
      // Awaited when its turn comes; a merge that stops before then drops it.
      this.ahead?.catch(() => undefined);
    }
    return true;
  }

  /** Starts reading the next page; undefined when every row has been read. */
  private readPage(): Promise<RawRow[]> | undefined {
    const span = this.spans[this.span];
    if (!span) return undefined;
    const start = span.start + this.readInSpan;
    const count = Math.min(this.pageRows, span.count - this.readInSpan);
    this.readInSpan += count;
    if (this.readInSpan === span.count) [this.span, this.readInSpan] = [this.span + 1, 0];
    const page: RawRow[] = [];
    const read = () =>
      span.result.readRows(start, count, async (rows) => {
        for (const row of rows) page.push(this.entryOf(row));
      });
    return this.queue.run(read).then(() => page);
  }
}
