// Turns the result pages of one day's fetch into hour files, as the pages arrive. Rows come in
// query order (the requested hour first, then by time); each goes to the file of its hour once:
// repeated deliveries are dropped, and an entry that does not come after the last one in its file
// waits for the hour to be final. A finished hour is handed to its waiters at once. The live hour
// grows by appending to its existing file; every other hour is written anew. A restarted query
// abandons the hour being written and delivers everything again.
import type { RawRow } from '../bigquery/log-warehouse.js';
import type { ContainerRef } from '../model/log-path.js';
import type { DayName, TimeZoneModel } from '../model/time-model.js';
import { sealsHour, type DayFetchPlan } from './day-fetch-plan.js';
import { recordManifest } from './day-manifests.js';
import { deliverHour, type DayState, type HourFile } from './day-state.js';
import type { DiskCache, HourFileWriter } from './disk-cache.js';
import { DuplicateFilter, entryKeyOf, FilePosition } from './entry-order.js';
import { LineBuffer, type LineSink } from './line-buffer.js';

/** The hour being written: where its lines go, and what it held before this fetch, if it grows. */
interface OpenHour {
  hour: number;
  final: boolean;
  file: HourFileWriter;
  /** The live hour's file from an earlier fetch, when this one appends to it. */
  grows?: HourFile;
  position: FilePosition;
  /** Writes lines to `file`. */
  write: LineSink;
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
  /** Lines of the open hour not yet written. */
  private readonly lines = new LineBuffer();

  constructor(
    private readonly cache: DiskCache,
    private readonly zone: TimeZoneModel,
    /** The row's line without its newline. */
    private readonly lineOf: (row: RawRow) => string,
    private readonly target: DayFetchTarget,
  ) {}

  /** Writes one page's rows to their hours' files; the page's lines are on disk when it resolves. */
  async writePage(rows: RawRow[]): Promise<void> {
    this.rowsSeen += rows.length;
    for (const row of rows) {
      const key = entryKeyOf(row);
      if (!key || !this.duplicates.accepts(key)) continue;
      const hour = this.zone.hourOfMicros(this.target.day, key.micros);
      if (hour === undefined) continue;
      // Not awaited while the hour stays the same: an await per row costs more than writing the row.
      const current = this.current?.hour === hour ? this.current : await this.hourFor(hour);
      if (!current.position.accepts(key)) continue;
      const writing = this.lines.add(this.lineOf(row), current.write);
      if (writing) await writing;
    }
    if (this.current) await this.lines.flush(this.current.write);
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
   * Drops the hour being written: a new file is deleted, a live file cut back to what it had. Hours
   * finished before are whole and stay. For a restarted query, and for a fetch that failed.
   */
  async abandon(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    this.duplicates.reset();
    this.lines.discard();
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
    const final = sealsHour(plan, this.zone, day, hour);
    const live = state.files.get(hour);
    if (!final && live && !live.final) {
      // A live hour only ever grows, so readers never see bytes change under them. Entries that
      // arrive late for an earlier position show up once the hour is final.
      const file = await this.cache.appendToHour(live);
      const position = new FilePosition(live.end && { ...live.end });
      return { hour, final, file, grows: live, position, write: (bytes) => file.write(bytes) };
    }
    const file = await this.cache.createHour({ ref, day, hour });
    return { hour, final, file, position: new FilePosition(undefined), write: (bytes) => file.write(bytes) };
  }

  private async finishHour(current: OpenHour): Promise<void> {
    const { ref, day, state, plan } = this.target;
    await this.lines.flush(current.write);
    await current.file.commit();
    const size = current.file.size;
    let mtimeMs: number;
    if (current.grows) mtimeMs = size === current.grows.size ? current.grows.mtimeMs : plan.fetchStartMs;
    else mtimeMs = current.final ? (this.zone.hourRange(day, current.hour)?.endMs ?? 0) : plan.fetchStartMs;
    const file: HourFile = {
      ref,
      day,
      hour: current.hour,
      size,
      mtimeMs,
      final: current.final,
      fetchedAtMs: plan.fetchStartMs,
      ...(current.position.fileEnd && { end: current.position.fileEnd }),
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
