// Turns the result pages of one day's fetch into hour files, as the pages arrive. Rows come in
// query order (the requested hour first, then by time); each goes to the file of its hour once:
// repeated deliveries are dropped. A finished hour is handed to its waiters at once. The live hour
// grows by appending to its existing file every entry it does not hold yet, late ones included, in
// the order they arrive; every other hour is written anew, in query order. A restarted query
// abandons the hour being written (its file and what it counted as held) and delivers everything again.
import type { TextRow } from '../bigquery/log-warehouse.js';
import { textOf } from '../bigquery/utf8-text.js';
import type { ContainerRef } from '../model/log-path.js';
import type { DayName, TimeZoneModel } from '../model/time-model.js';
import { sealsHour, type DayFetchPlan } from './day-fetch-plan.js';
import { recordManifest } from './day-manifests.js';
import { deliverHour, withdrawEarlyHours, type DayState, type HourFile } from './day-state.js';
import type { DiskCache, HourFileWriter } from './disk-cache.js';
import {
  DuplicateFilter,
  entryIdentity,
  HeldEntries,
  readEntryKey,
  type EntryKey,
  type EntryPass,
} from './entry-order.js';
import type { LineBody } from './entry-format.js';
import type { HourProgress } from './hour-progress.js';
import { LineBuffer, type LineSink } from './line-buffer.js';

/** The hour being written: where its lines go, and what it held before this fetch, if it grows. */
interface OpenHour {
  hour: number;
  final: boolean;
  file: HourFileWriter;
  /** The live hour's file from an earlier fetch, when this one appends to it. */
  grows?: HourFile;
  /** What a live hour's file holds, and this fetch's check of its rows against it; none for a final hour. */
  held?: { entries: HeldEntries; pass: EntryPass };
  /** Writes lines to `file`. */
  write: LineSink;
  /** How far `file` is written, for readers of the hour before it is delivered (EarlyHour). */
  progress?: HourProgress;
}

/** The pod of a workload directory's row (a `PodRow`); undefined for a pod's own row. */
function podOf(row: TextRow): string | undefined {
  return (row as { pod?: string }).pod;
}

export interface DayFetchTarget {
  ref: ContainerRef;
  day: DayName;
  state: DayState;
  plan: DayFetchPlan;
}

export class HourWriter {
  private current: OpenHour | undefined;
  private rowsSeen = 0;
  private readonly duplicates = new DuplicateFilter();
  /** Hours finished as soon as they had their announced size (see writePage). */
  private readonly finishedEarly = new Set<number>();
  /** Lines of the open hour not yet written. */
  private readonly lines = new LineBuffer();
  /** The key of the row being written, written over for each row (readEntryKey). */
  private readonly key: EntryKey = { micros: 0n, insertId: null, stream: '' };
  /** The span of the hour the row before fell in, where the next rows fall too, in epoch microseconds. */
  private segment: { hour: number; startMicros: bigint; endMicros: bigint } | undefined;

  constructor(
    private readonly cache: DiskCache,
    private readonly zone: TimeZoneModel,
    /** The row's line without its newline. */
    private readonly lineOf: (row: TextRow) => LineBody,
    readonly target: DayFetchTarget,
  ) {}

  /** Writes one page's rows to their hours' files; the page's lines are on disk when it resolves. */
  async writePage(rows: TextRow[]): Promise<void> {
    this.rowsSeen += rows.length;
    const key = this.key;
    for (const row of rows) {
      if (!readEntryKey(row, key) || !this.duplicates.accepts(key)) continue;
      const hour = this.hourOf(key.micros);
      if (hour === undefined) continue;
      // Not awaited while the hour stays the same: an await per row costs more than writing the row.
      const current = this.current?.hour === hour ? this.current : await this.hourFor(hour);
      // Only an entry without an insert id needs its line to be told apart.
      let line = key.insertId === null ? this.lineOf(row) : undefined;
      const held = current.held;
      if (held && !held.pass.accepts(key, entryIdentity(key, podOf(row), line === undefined ? '' : textOf(line)))) {
        continue;
      }
      line ??= this.lineOf(row);
      const writing = this.lines.add(line, current.write);
      if (writing) await writing;
    }
    const current = this.current;
    if (!current) return;
    await this.lines.flush(current.write);
    await this.finishIfWhole(current);
  }

  /** Where the lines of hour `hour` go if they come straight from the result (Sweeps' `lines`): a final hour's only. */
  linesOf(hour: number): ((lines: Buffer, rows: number) => Promise<void>) | undefined {
    const { plan, day } = this.target;
    return sealsHour(plan, this.zone, day, hour) ? (lines, rows) => this.writeLines(hour, lines, rows) : undefined;
  }

  /**
   * Writes the lines of the next `rows` entries of hour `hour`, as they came from the result: only
   * for an hour written anew, whose file is exactly its entries' lines.
   */
  async writeLines(hour: number, lines: Buffer, rows: number): Promise<void> {
    this.rowsSeen += rows;
    const current = this.current?.hour === hour ? this.current : await this.hourFor(hour);
    if (!current.final) throw new Error(`hour ${hour} is not final: its entries must be checked against its file`);
    await current.write(lines);
    await this.finishIfWhole(current);
  }

  /**
   * An hour of announced size that has all its bytes is done: it is finished now, not when the
   * next hour's first row comes, so that the cache has it once a reader has read it.
   */
  private async finishIfWhole(current: OpenHour): Promise<void> {
    if (current.progress && current.file.size === this.target.state.announced.get(current.hour)?.size) {
      await this.finishHour(current);
      this.current = undefined;
      this.finishedEarly.add(current.hour);
    }
  }

  /** zone.hourOfMicros of the target's day, without a search for a row in the same span as the one before. */
  private hourOf(micros: bigint): number | undefined {
    const segment = this.segment;
    if (segment && micros >= segment.startMicros && micros < segment.endMicros) return segment.hour;
    const { day } = this.target;
    const hour = this.zone.hourOfMicros(day, micros);
    // Before 1970, hourOfMicros rounds toward zero: those are looked up each time.
    if (hour === undefined || micros < 0n) return hour;
    const ms = Number(micros / 1000n);
    const found = this.zone.hourSegments(day).find(({ startMs, endMs }) => ms >= startMs && ms < endMs)!;
    this.segment = { hour, startMicros: BigInt(found.startMs) * 1000n, endMicros: BigInt(found.endMs) * 1000n };
    return hour;
  }

  /** Rows handed to the writer so far, written or dropped. */
  get rowsWritten(): number {
    return this.rowsSeen;
  }

  /** Completes the hour being written, after the last page. */
  async finish(): Promise<void> {
    if (this.current) await this.finishHour(this.current);
    this.current = undefined;
  }

  /**
   * Drops the hour being written: a new file is deleted, a live file cut back to what it had, and
   * what it held counted as before. Hours finished before are whole and stay. For a restarted
   * query, and for a fetch that failed.
   */
  async abandon(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    this.duplicates.reset();
    this.finishedEarly.clear();
    this.lines.discard();
    current?.held?.pass.rollback();
    current?.progress?.drop();
    withdrawEarlyHours(this.target.state);
    await current?.file.abandon();
  }

  /** The open hour, after finishing the one before it if the hour changed. */
  private async hourFor(hour: number): Promise<OpenHour> {
    if (this.current?.hour === hour) return this.current;
    if (this.current) await this.finishHour(this.current);
    // Delivered: from here on a failure leaves that hour as it is.
    this.current = undefined;
    this.current = await this.startHour(hour);
    return this.current;
  }

  private async startHour(hour: number): Promise<OpenHour> {
    const { ref, day, state, plan } = this.target;
    if (this.finishedEarly.has(hour)) {
      throw new Error(`hour ${hour} has more entries than its announced size counted: the query's count is wrong`);
    }
    const final = sealsHour(plan, this.zone, day, hour);
    const live = state.files.get(hour);
    if (!final && live?.held && !live.final) {
      // A live hour only ever grows, so readers never see bytes change under them. An entry that
      // arrived late, for a place before lines already shown, is appended too.
      const file = await this.cache.appendToHour(live);
      const held = { entries: live.held, pass: live.held.pass() };
      return { hour, final, file, grows: live, held, write: (bytes) => file.write(bytes) };
    }
    const file = await this.cache.createHour({ ref, day, hour });
    const entries = new HeldEntries();
    const held = final ? undefined : { entries, pass: entries.pass() };
    const progress = final ? state.announced.get(hour)?.progress : undefined;
    if (!progress) return { hour, final, file, ...(held && { held }), write: (bytes) => file.write(bytes) };
    progress.start(() => file.openWritten());
    const write = async (bytes: Buffer) => {
      await file.write(bytes);
      progress.advance(file.size);
    };
    return { hour, final, file, write, progress };
  }

  private async finishHour(current: OpenHour): Promise<void> {
    const { ref, day, state, plan } = this.target;
    await this.lines.flush(current.write);
    await current.file.commit();
    const size = current.file.size;
    const endMs = this.zone.hourRange(day, current.hour)?.endMs ?? 0;
    // A live file never has the mtime its final file will have (the hour's end): sealing puts late
    // entries in order, maybe at the same size, and the kernel must drop the pages it cached.
    const liveMtimeMs = plan.fetchStartMs === endMs ? endMs - 1 : plan.fetchStartMs;
    let mtimeMs: number;
    if (current.grows) mtimeMs = size === current.grows.size ? current.grows.mtimeMs : liveMtimeMs;
    else mtimeMs = current.final ? endMs : liveMtimeMs;
    const file: HourFile = {
      ref,
      day,
      hour: current.hour,
      size,
      mtimeMs,
      final: current.final,
      fetchedAtMs: plan.fetchStartMs,
      ...(current.held && { held: current.held.entries }),
      ...(current.file.checksum !== undefined && { checksum: current.file.checksum }),
      ...(current.file.blockChecksums !== undefined && { blockChecksums: current.file.blockChecksums }),
      verified: true,
    };
    deliverHour(state, file);
    // A final hour goes into the day's manifest at once: a restarted daemon serves it, even if this
    // fetch never ends.
    if (file.final) await recordManifest(this.cache, ref, day, state);
  }
}
