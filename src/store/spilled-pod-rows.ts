// One pod's rows of one hour, for the merge of a workload with many pods (a DaemonSet on a big
// cluster has hundreds): read whole, one stream per span, into a scratch file of the disk cache,
// then handed to the merge from that file a small chunk at a time. Pages held in memory per pod
// (PodHourRows) would grow with the number of pods; this holds one chunk per pod, and still reads
// each pod's rows of the kept result once.
import type { FileHandle } from 'node:fs/promises';
import type { RawRow } from '../bigquery/log-warehouse.js';
import type { ScratchFile } from './disk-cache.js';
import { HeldRows, type ReadQueue, type RowSpan } from './pod-hour-rows.js';

/** Bytes read from a pod's scratch file at a time: what each pod holds while the merge runs. */
const CHUNK_BYTES = 32 * 1024;
/** Rows are written to the scratch file once this many bytes of them wait. */
const WRITE_BYTES = 1 << 20;
const NEWLINE = 0x0a;

export class SpilledPodRows extends HeldRows {
  private reader: FileHandle | undefined;
  private position = 0;
  /** The start of a row whose end the last chunk did not reach. */
  private partial: Buffer = Buffer.alloc(0);
  private ended = false;

  private constructor(
    readonly pod: string,
    private readonly scratch: ScratchFile,
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
  ): Promise<SpilledPodRows> {
    const scratch = await createScratch(`workload-merge-${pod}`);
    try {
      let waiting: string[] = [];
      let waitingBytes = 0;
      const write = async () => {
        const bytes = Buffer.from(waiting.join(''));
        [waiting, waitingBytes] = [[], 0];
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
              waitingBytes += line.length;
            }
            if (waitingBytes >= WRITE_BYTES) await write();
          }),
        );
      }
      await write();
      await scratch.handle.close();
      return new SpilledPodRows(pod, scratch);
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
    const reader = this.reader;
    this.reader = undefined;
    await reader?.close().catch(() => undefined);
    await this.scratch.remove();
  }

  private async readChunk(): Promise<void> {
    this.reader ??= await this.scratch.openForReading();
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await this.reader.read(chunk, 0, CHUNK_BYTES, this.position);
    this.position += bytesRead;
    const bytes = this.partial.length > 0 ? Buffer.concat([this.partial, chunk.subarray(0, bytesRead)]) : chunk;
    const length = this.partial.length + bytesRead;
    if (bytesRead === 0) {
      this.ended = true;
      if (this.partial.length > 0) throw new Error(`the scratch file of ${this.pod} ends inside a row`);
      this.hold([]);
      return;
    }
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
