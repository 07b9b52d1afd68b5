// The index at the head of a sweep's result: for every container-hour in it, where its entries
// start and how many there are. With it, one container's rows are read straight from the result,
// by row index, without another query.
import type { QueryResult, RawRow } from '../bigquery/log-warehouse.js';
import { SWEEP_INDEX_COLUMNS } from '../bigquery/query-builder.js';
import type { ContainerRef } from '../model/log-path.js';
import type { DayName } from '../model/time-model.js';

/** The rows of one container-hour in the result. */
export interface HourRows {
  day: DayName;
  hour: number;
  start: number;
  count: number;
  /** The bytes of its lines when they are the text payloads as they are; unknown otherwise (see sweepQuery). */
  lineBytes?: number;
}

/** Rows of the index are read this many at a time: a page of the entries after it is read for nothing. */
const INDEX_PAGE_ROWS = 2_000;

export function containerKey(ref: ContainerRef): string {
  return `${ref.namespace}/${ref.pod}/${ref.container}`;
}

export class SweepIndex {
  private constructor(private readonly hours: ReadonlyMap<string, HourRows[]>) {}

  /** Reads the index rows at the head of the result. */
  static async read(result: QueryResult): Promise<SweepIndex> {
    const hours = new Map<string, HourRows[]>();
    const indexRows: RawRow[] = [];
    let ended = false;
    for (let start = 0; !ended && start < result.totalRows; start += INDEX_PAGE_ROWS) {
      await result.readRows(start, Math.min(INDEX_PAGE_ROWS, result.totalRows - start), async (rows) => {
        for (const row of rows) {
          if (row[0] !== '0') {
            ended = true;
            return;
          }
          indexRows.push(row);
        }
      });
    }
    let next = indexRows.length;
    for (const [, namespace, pod, container, day, hour, entries, lineBytes] of indexRows) {
      const key = containerKey({ namespace: namespace ?? '', pod: pod ?? '', container: container ?? '' });
      const count = Number(entries);
      const list = hours.get(key) ?? [];
      hours.set(key, list);
      const known = lineBytes === null || lineBytes === undefined ? {} : { lineBytes: Number(lineBytes) };
      list.push({ day: day ?? '', hour: Number(hour), start: next, count, ...known });
      next += count;
    }
    if (next !== result.totalRows) {
      throw new Error(`sweep index counts ${next} rows, but the result has ${result.totalRows}`);
    }
    return new SweepIndex(hours);
  }

  /** The container's hours of one local day in the result, in file order. */
  hoursOf(ref: ContainerRef, day: DayName): HourRows[] {
    return (this.hours.get(containerKey(ref)) ?? []).filter((rows) => rows.day === day);
  }

  /** The containers the result holds entries of. */
  containers(): string[] {
    return [...this.hours.keys()];
  }
}

/** Entry columns of a sweep row: what follows the index columns, as an entries query returns them. */
export function entryColumnsOf<Value>(row: Value[]): Value[] {
  return row.slice(SWEEP_INDEX_COLUMNS.length);
}
