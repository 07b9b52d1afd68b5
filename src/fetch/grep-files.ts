// `bqlogfs grep --out`: each container's matching lines go into a file of its own as the result
// pages come, so a search matching gigabytes needs no more memory than one matching a few lines.
// Lines wait in memory up to a bound over all containers; past it, the containers holding the most
// are written out, and each file is closed again after it is written to, so a search over thousands of
// pods holds few descriptors. Every file stays under a hidden temporary name until the search has
// ended and its lines are all written (OutputDirectory); then each is synced and renamed into place
// in turn. A search that fails or is interrupted before then leaves none.
import type { ContainerRef } from '../model/log-path.js';
import type { OutputDirectory, OutputFile } from './output-files.js';

/** Lines waiting over all containers before the largest are written out. */
export const GREP_FILES_PENDING_BYTES = 8 * 2 ** 20;

interface ContainerFile {
  ref: ContainerRef;
  /** Lines not yet written, each ending in a newline. */
  waiting: string[];
  waitingBytes: number;
  lines: number;
  file?: OutputFile;
}

export class GrepFiles {
  private readonly containers = new Map<string, ContainerFile>();
  private waitingBytes = 0;
  /** The most bytes ever waiting at once, after a `spill` (what the bound holds, for tests). */
  peakWaitingBytes = 0;

  constructor(
    private readonly directory: OutputDirectory,
    private readonly fileName: (ref: ContainerRef) => string,
    private readonly pendingLimit = GREP_FILES_PENDING_BYTES,
  ) {}

  /** Keeps the lines (each ending in a newline) for the container's file, in memory until `spill`. */
  keep(name: string, ref: ContainerRef, lines: readonly string[]): void {
    const container = this.containers.get(name) ?? { ref, waiting: [], waitingBytes: 0, lines: 0 };
    this.containers.set(name, container);
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      container.waiting.push(line);
      container.waitingBytes += bytes;
      this.waitingBytes += bytes;
    }
    container.lines += lines.length;
  }

  /** Writes out the containers holding the most until at most half the bound waits. */
  async spill(): Promise<void> {
    if (this.waitingBytes > this.pendingLimit) {
      const largest = [...this.containers.values()].sort((a, b) => b.waitingBytes - a.waitingBytes);
      for (const container of largest) {
        if (this.waitingBytes <= this.pendingLimit / 2) break;
        await this.writeOut(container);
      }
    }
    this.peakWaitingBytes = Math.max(this.peakWaitingBytes, this.waitingBytes);
  }

  /**
   * Writes what waits and makes every file visible under its name, in the order of each container's
   * first match; `wrote` is told each file's path and line count.
   */
  async finish(wrote: (path: string, lines: number) => void): Promise<void> {
    for (const container of this.containers.values()) await this.writeOut(container);
    for (const { file, lines } of this.containers.values()) {
      if (!file) continue;
      await file.commit();
      wrote(file.path, lines);
    }
  }

  /** Removes every file not yet renamed into place. */
  async discard(): Promise<void> {
    await Promise.allSettled([...this.containers.values()].map(({ file }) => file?.discard()));
  }

  private async writeOut(container: ContainerFile): Promise<void> {
    if (container.waiting.length === 0) return;
    container.file ??= await this.directory.create(this.fileName(container.ref));
    const bytes = Buffer.from(container.waiting.join(''));
    this.waitingBytes -= container.waitingBytes;
    container.waiting = [];
    container.waitingBytes = 0;
    await container.file.append(bytes);
    await container.file.release();
  }
}
