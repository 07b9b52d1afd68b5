// Sweeps: one query per UTC day (the unit BigQuery bills) over every container of a scope, kept as
// a result that BigQuery holds, from which each container-day is then read by row index at no
// further cost. However many pods of a namespace are read, listed with sizes or followed, each day
// partition is scanned once per sweep, not once per container.
import { failure, QueryFailure } from '../bigquery/failures.js';
import { logQuery } from '../bigquery/log-queries.js';
import type { LogWarehouse, QueryResult, TextRow } from '../bigquery/log-warehouse.js';
import type { LogSource, SweepScope } from '../bigquery/query-builder.js';
import type { ContainerRef } from '../model/log-path.js';
import { DAY_MS, type DayName, type TimeRange, type TimeZoneModel } from '../model/time-model.js';
import { entryColumnsOf, SweepIndex, type HourRows } from './sweep-index.js';
import { hourLineSpec, countedHours, SWEEP_TEXT_PAYLOAD_COLUMN } from './sweep-lines.js';

export interface SweepOptions {
  zone: TimeZoneModel;
  now: () => number;
  /** Also severity and labels, for `--format json`. */
  fullEntries: boolean;
  /** A result older than this is queried again: BigQuery keeps a query's result for about a day. */
  resultLifetimeMs: number;
  /** Text payloads may be delivered as their UTF-8 bytes (Utf8Text), for lines that are the payload as is. */
  textAsBytes?: boolean;
  /**
   * The bytes each line has before its text payload (entry-format.ts, linePrefixBytes), so that an
   * hour's size is its index's lineBytes plus this for each entry; undefined when lines cannot be counted.
   */
  linePrefixBytes?: number;
}

/** What a container-day read needs of a sweep. */
export interface SweepNeed {
  scope: SweepScope;
  /** The UTC range needed, within one UTC day. */
  range: TimeRange;
  /** Only a sweep started at or after this instant will do: an older snapshot may lack entries. */
  notBeforeMs: number;
}

interface Sweep {
  scope: SweepScope;
  range: TimeRange;
  startedAtMs: number;
  ready: Promise<{ result: QueryResult; index: SweepIndex }>;
}

/** Which hours of which container-day to read, and which hour first. */
export interface ContainerDayTarget {
  ref: ContainerRef;
  day: DayName;
  first: number;
  wanted: (hour: number) => boolean;
  /** Told, before any row is read, of each wanted hour whose file size the sweeps' index gives. */
  sized?: (hour: SizedHour) => void;
  /**
   * Where the lines of a wanted hour go, if they may come straight from the result instead of as
   * rows (countedHours): for an hour written anew, whose file is then exactly those lines.
   */
  lines?: (hour: number) => ((lines: Buffer, rows: number) => Promise<void>) | undefined;
}

/** An hour whose file size a sweep's index gives before its rows are read (HourRows.lineBytes). */
export interface SizedHour {
  hour: number;
  /** The bytes of its file. */
  size: number;
  entries: number;
  /** Hands the hour's last `count` entries to `deliver`, in file order, as readContainerDay hands rows. */
  readLast(count: number, deliver: (rows: TextRow[]) => Promise<void>): Promise<void>;
}

/** What reading a container-day cost, and how recent its data is. */
export interface SweepRead {
  /** Bytes the sweeps this read started billed; 0 when it used sweeps that existed. */
  bytesBilled: number;
  /** When the oldest sweep read was started: entries after it are not in what was delivered. */
  snapshotMs: number;
}

function covers(scope: SweepScope, ref: ContainerRef): boolean {
  return (
    (scope.namespaces === undefined || scope.namespaces.includes(ref.namespace)) &&
    (scope.container === undefined || scope.container === ref.container)
  );
}

/** The UTC days a range overlaps, as ranges cut to it. */
export function utcDayParts(range: TimeRange): TimeRange[] {
  const parts: TimeRange[] = [];
  for (let start = range.startMs; start < range.endMs;) {
    const dayEnd = (Math.floor(start / DAY_MS) + 1) * DAY_MS;
    const end = Math.min(dayEnd, range.endMs);
    parts.push({ startMs: start, endMs: end });
    start = end;
  }
  return parts;
}

/**
 * The row, once it is known to be an entry of the container: a result read by row index (the
 * Storage Read API's offset, which its contract only promises for offsets already read) must never
 * hand over another container's rows as this one's.
 */
export function ofContainer<Row extends TextRow>(row: Row, ref: ContainerRef): Row {
  const [part, namespace, pod, container] = row;
  if (part !== '1' || namespace !== ref.namespace || pod !== ref.pod || container !== ref.container) {
    throw failure(
      `the kept result gave a row of ${namespace}/${pod}/${container} where ${ref.namespace}/${ref.pod}/${ref.container} was expected`,
      'resultChanged',
    );
  }
  return row;
}

/** A sweep's kept result and its index, as `Sweeps.kept` hands it out. */
export interface KeptSweep {
  result: QueryResult;
  index: SweepIndex;
  startedAtMs: number;
  /** What the sweep billed if this call started it, else 0. */
  bytesBilled: number;
  discard(): void;
}

/** A kept result failed while a container-day was read from it; a new sweep may succeed. */
export class SweepUnreadable extends Error {
  constructor(readonly failure: unknown) {
    super(failure instanceof Error ? failure.message : String(failure));
  }
}

/**
 * The hours whose size the index gives: those of text lines (each a payload behind a prefix of one
 * length), each read from one sweep (an hour of a zone a half hour off UTC may span two).
 */
function sizedHours(
  opened: { result: QueryResult; hours: HourRows[] }[],
  counted: ReadonlySet<number>,
  linePrefixBytes: number,
  readTo: (
    to: (rows: TextRow[]) => Promise<void>,
  ) => (rows: Pick<HourRows, 'start' | 'count'>, result: QueryResult) => Promise<void>,
): SizedHour[] {
  const sized: SizedHour[] = [];
  for (const { result, hours } of opened) {
    for (const rows of hours) {
      if (!counted.has(rows.hour) || rows.lineBytes === undefined) continue;
      const readLast = (count: number, deliver: (rows: TextRow[]) => Promise<void>) => {
        const last = Math.min(count, rows.count);
        return readTo(deliver)({ start: rows.start + rows.count - last, count: last }, result);
      };
      const size = rows.lineBytes + rows.count * linePrefixBytes;
      sized.push({ hour: rows.hour, size, entries: rows.count, readLast });
    }
  }
  return sized;
}

export class Sweeps {
  private sweeps: Sweep[] = [];

  constructor(
    private readonly warehouse: LogWarehouse,
    private readonly source: LogSource,
    private readonly options: SweepOptions,
  ) {}

  /**
   * Hands the container's entries of local day `day` to `deliver`, those of hour `first` first, then
   * the rest in file order, from a sweep per UTC day part of `needs` (started if none will do).
   */
  async readContainerDay(
    target: ContainerDayTarget,
    needs: SweepNeed[],
    deliver: (rows: TextRow[]) => Promise<void>,
  ): Promise<SweepRead> {
    const { ref, day, first, wanted } = target;
    const found = needs.map((need) => this.sweepFor(ref, need));
    const used = found.map(({ sweep }) => sweep);
    let bytesBilled = 0;
    const opened: { result: QueryResult; hours: HourRows[] }[] = [];
    for (const { sweep, started } of found) {
      const { result, index } = await sweep.ready;
      // What a sweep billed is charged to the read that started it.
      if (started) bytesBilled += result.stats.bytesBilled;
      opened.push({ result, hours: index.hoursOf(ref, day).filter((rows) => wanted(rows.hour)) });
    }
    const readTo =
      (to: (rows: TextRow[]) => Promise<void>) =>
      ({ start, count }: Pick<HourRows, 'start' | 'count'>, result: QueryResult) => {
        const strip = async (rows: TextRow[]) => to(rows.map((row) => entryColumnsOf(ofContainer(row, ref))));
        return this.options.textAsBytes && result.readTextRows
          ? result.readTextRows(start, count, SWEEP_TEXT_PAYLOAD_COLUMN, strip)
          : result.readRows(start, count, strip);
      };
    // Hours held by one sweep whose index counted their bytes: sized, and read as lines if plain text.
    const counted = countedHours(opened);
    const read = (rows: HourRows, result: QueryResult) => {
      const lines = this.options.textAsBytes && counted.has(rows.hour) ? target.lines?.(rows.hour) : undefined;
      if (!lines || !result.readLines) return readTo(deliver)(rows, result);
      const spec = hourLineSpec(ref, this.options.zone, day, rows.hour);
      return result.readLines(rows.start, rows.count, spec, lines);
    };
    const { linePrefixBytes } = this.options;
    if (target.sized && linePrefixBytes !== undefined) {
      for (const sized of sizedHours(opened, counted, linePrefixBytes, readTo)) target.sized(sized);
    }
    try {
      for (const { result, hours } of opened) {
        for (const rows of hours.filter((rows) => rows.hour === first)) await read(rows, result);
      }
      for (const { result, hours } of opened) {
        for (const rows of hours.filter((rows) => rows.hour !== first)) await read(rows, result);
      }
    } catch (error) {
      if (!(error instanceof QueryFailure)) throw error;
      // A result that cannot be read (expired, or its job reported failed) is not used again.
      this.sweeps = this.sweeps.filter((sweep) => !used.includes(sweep));
      throw new SweepUnreadable(error);
    }
    return { bytesBilled, snapshotMs: Math.min(...used.map((sweep) => sweep.startedAtMs)) };
  }

  /**
   * The kept result of a sweep that covers the need for the container, with its index: an existing
   * one, or a new one (`bytesBilled` is then what it billed). `discard` stops it being used again,
   * for a result that could not be read.
   */
  async kept(ref: ContainerRef, need: SweepNeed): Promise<KeptSweep> {
    const { sweep, started } = this.sweepFor(ref, need);
    const { result, index } = await sweep.ready;
    return {
      result,
      index,
      startedAtMs: sweep.startedAtMs,
      bytesBilled: started ? result.stats.bytesBilled : 0,
      discard: () => {
        this.sweeps = this.sweeps.filter((other) => other !== sweep);
      },
    };
  }

  /** The newest existing sweep that will do, or a new one (`started`). */
  private sweepFor(ref: ContainerRef, need: SweepNeed): { sweep: Sweep; started: boolean } {
    const now = this.options.now();
    this.sweeps = this.sweeps.filter((sweep) => now - sweep.startedAtMs < this.options.resultLifetimeMs);
    const found = [...this.sweeps]
      .reverse()
      .find(
        (sweep) =>
          covers(sweep.scope, ref) &&
          sweep.range.startMs <= need.range.startMs &&
          sweep.range.endMs >= need.range.endMs &&
          sweep.startedAtMs >= need.notBeforeMs,
      );
    if (found) return { sweep: found, started: false };
    const sweep = this.start(need.scope, need.range, now);
    this.sweeps.push(sweep);
    return { sweep, started: true };
  }

  private start(scope: SweepScope, range: TimeRange, startedAtMs: number): Sweep {
    const query = logQuery(this.source, {
      kind: 'sweep',
      scope,
      range,
      timeZone: this.options.zone.zone,
      fullEntries: this.options.fullEntries,
    });
    const ready = (async () => {
      const result = await this.warehouse.openResult(query);
      return { result, index: await SweepIndex.read(result) };
    })();
    const sweep: Sweep = { scope, range, startedAtMs, ready };
    // A failed sweep is forgotten, so the next read queries again.
    sweep.ready.catch(() => {
      this.sweeps = this.sweeps.filter((other) => other !== sweep);
    });
    return sweep;
  }
}
