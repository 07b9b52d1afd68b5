// How far a final hour's new file is written, for readers of its early hour (early-hour.ts): the
// bytes before that point are the file's, since a new file is written from its start, in order.
import { deferred, type Deferred } from './deferred.js';
import type { HourReader } from './hour-file-writers.js';

export class HourProgress {
  /** Bytes of the file written so far, in the writing numbered `writing`. */
  bytes = 0;
  /** Counts the times the file was started: a restarted query writes a new one. */
  writing = 0;
  private source: (() => Promise<HourReader>) | undefined;
  private next: Deferred<void> = deferred();

  /** A file was started anew; `open` opens it for reading. */
  start(open: () => Promise<HourReader>): void {
    [this.source, this.bytes] = [open, 0];
    this.writing++;
    this.wake();
  }

  /** `bytes` of the file are written. */
  advance(bytes: number): void {
    this.bytes = bytes;
    this.wake();
  }

  /** The file was dropped (its query is restarted, or the fetch failed). */
  drop(): void {
    [this.source, this.bytes] = [undefined, 0];
    this.wake();
  }

  /** Opens the file being written; undefined when none is. */
  open(): Promise<HourReader> | undefined {
    return this.source?.();
  }

  /** Resolves at the next change. */
  changed(): Promise<void> {
    return this.next.promise;
  }

  private wake(): void {
    const woken = this.next;
    this.next = deferred();
    woken.resolve();
  }
}
