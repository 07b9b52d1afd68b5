// One pod's rows of one hour, for the merge of a workload with many pods (a DaemonSet on a big
// cluster has hundreds): read whole, one stream per span, into a scratch file of the disk cache,
// then handed to the merge from that file a small chunk at a time. Pages held in memory per pod
// (PodHourRows) would grow with the number of pods; this holds one chunk per pod, and still reads
// each pod's rows of the kept result once.
import type { FileHandle } from 'node:fs/promises';
import type { RawRow } from '../bigquery/log-warehouse.js';
import type { ScratchFile } from './temporary-files.js';
import { HeldRows, type ReadQueue, type RowSpan } from './pod-hour-rows.js';

/** Rows are written to the scratch file once about this many characters of them wait. */
const WRITE_CHARACTERS = 1 << 20;
const NEWLINE = 0x0a;

export class SpilledPodRows extends HeldRows {
  private reader: FileHandle | undefined;
  private position = 0;
  /** The start of a row whose end the last chunk did not reach. */
  private partial: Buffer = Buffer.alloc(0);
  private ended = false;
  private removed = false;

  private constructor(
    readonly pod: string,
    private readonly scratch: ScratchFile,
    /** Bytes read from the scratch file at a time: what the pod holds while the merge runs. */
    private readonly chunkBytes: number,
  ) {
    super();
  }

  /**
   * Reads the pod's rows in `spans` (through `queue`, after the reads already in it) into a new
   * scratch file, each as its entry columns (`entryOf`) in JSON, one per line.
   */
  static async spill(
    pod: string,
    spans: readonly RowSpan[],
    queue: ReadQueue,
    entryOf: (row: RawRow) => RawRow,
    createScratch: (name: string) => Promise<ScratchFile>,
    chunkBytes: number,
  ): Promise<SpilledPodRows> {
    // Not named after the pod: a pod name of up to 253 characters would make too long a file name.
    const scratch = await createScratch('workload-merge');
    try {
      let waiting: string[] = [];
      let waitingCharacters = 0;
      const write = async () => {
        const bytes = Buffer.from(waiting.join(''));
        [waiting, waitingCharacters] = [[], 0];
        for (let offset = 0; offset < bytes.length;) {
          offset += (await scratch.handle.write(bytes, offset)).bytesWritten;
        }
      };
      for (const span of spans) {
        await queue.run(() =>
          span.result.readRows(span.start, span.count, async (rows) => {
            for (const row of rows) {
              // JSON escapes every newline inside a value: a raw one only ends a row.
              const line = `${JSON.stringify(entryOf(row))}\n`;
              waiting.push(line);
              waitingCharacters += line.length;
            }
            if (waitingCharacters >= WRITE_CHARACTERS) await write();
          }),
        );
      }
      await write();
      await scratch.handle.close();
      return new SpilledPodRows(pod, scratch, chunkBytes);
    } catch (error) {
      await scratch.remove();
      throw error;
    }
  }

  /** Moves to the next chunk's rows once the current ones are used up; false when the pod has no rows left. */
  async ensureRow(): Promise<boolean> {
    while (this.usedUp) {
      if (this.ended) return false;
      await this.readChunk();
    }
    return true;
  }

  /** Closes and removes the scratch file. */
  async remove(): Promise<void> {
    this.removed = true;
    const reader = this.reader;
    this.reader = undefined;
    await reader?.close().catch(() => undefined);
    await this.scratch.remove();
  }

  private async readChunk(): Promise<void> {
    if (!this.reader) {
      const reader = await this.scratch.openForReading();
      if (this.removed) {
        await reader.close();
        throw new Error(`the scratch file of ${this.pod} was removed while it was opened`);
      }
      this.reader = reader;
    }
    const chunk = Buffer.allocUnsafe(this.chunkBytes);
    const { bytesRead } = await this.reader.read(chunk, 0, this.chunkBytes, this.position);
    this.position += bytesRead;
    if (bytesRead === 0) {
      if (this.partial.length > 0) throw new Error(`the scratch file of ${this.pod} ends inside a row`);
      this.ended = true;
      this.hold([]);
      // A pod that has ended holds no descriptor while the others are merged.
      const reader = this.reader;
      this.reader = undefined;
      await reader.close();
      return;
    }
    const bytes = this.partial.length > 0 ? Buffer.concat([this.partial, chunk.subarray(0, bytesRead)]) : chunk;
    const length = this.partial.length + bytesRead;
    const end = bytes.lastIndexOf(NEWLINE, length - 1);
    // Copied: the rest of a row must not keep this chunk's whole buffer alive.
    this.partial = Buffer.from(bytes.subarray(end + 1, length));
    const rows =
      end < 0
        ? []
        : bytes
            .toString('utf8', 0, end)
            .split('\n')
            .map((line) => JSON.parse(line) as RawRow);
    this.hold(rows);
  }
}
