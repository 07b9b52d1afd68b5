// What `fetch` tells its user while it works: a progress bar on a terminal, otherwise one line per
// file written (for logs and scripts).
import type { WriteStream } from 'node:tty';
import { formatBytes } from '../model/byte-units.js';
import { ProgressBar } from './progress-bar.js';

export interface FetchProgress {
  podsFound(count: number): void;
  rowsFetched(rows: number): void;
  bytesCopied(bytes: number): void;
  fileWritten(path: string, bytes: number, hoursWithEntries: number): void;
  /** The fetch ended, completely or not. */
  done(completed: boolean): void;
}

function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

class TerminalProgress implements FetchProgress {
  private readonly startedMs = Date.now();
  private pods: number | undefined;
  private files = 0;
  private bytes = 0;
  private rows = 0;
  private readonly bar: ProgressBar;

  constructor(
    stream: WriteStream,
    private readonly outDir: string,
  ) {
    this.bar = new ProgressBar(stream, () => ({
      fraction: this.pods ? this.files / this.pods : 0,
      text: `${this.counts()}  ${formatElapsed(Date.now() - this.startedMs)}`,
    }));
    this.bar.update();
  }

  private counts(): string {
    const files = this.pods === undefined ? 'finding pods' : `${this.files}/${this.pods} files`;
    return `${files}  ${formatBytes(this.bytes)}  ${this.rows.toLocaleString('en-US')} rows`;
  }

  podsFound(count: number): void {
    this.pods = count;
    this.bar.update();
  }
  rowsFetched(rows: number): void {
    this.rows += rows;
    this.bar.update();
  }
  bytesCopied(bytes: number): void {
    this.bytes += bytes;
    this.bar.update();
  }
  fileWritten(): void {
    this.files++;
    this.bar.update();
  }
  done(completed: boolean): void {
    const elapsed = formatElapsed(Date.now() - this.startedMs);
    const rows = this.rows.toLocaleString('en-US');
    const summary = `wrote ${this.files} files (${formatBytes(this.bytes)}) into ${this.outDir}; ${rows} rows fetched in ${elapsed}`;
    this.bar.finish(completed && this.files > 0 ? summary : undefined);
  }
}

class LineProgress implements FetchProgress {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  podsFound(): void {}
  rowsFetched(): void {}
  bytesCopied(): void {}
  fileWritten(path: string, bytes: number, hoursWithEntries: number): void {
    this.stream.write(`wrote ${path} (${bytes} bytes from ${hoursWithEntries} hour files)\n`);
  }
  done(): void {}
}

export function createFetchProgress(stream: NodeJS.WriteStream, outDir: string): FetchProgress {
  return stream.isTTY ? new TerminalProgress(stream, outDir) : new LineProgress(stream);
}
