// Reads an early hour (early-hour.ts) while its file is being written: what is written from the
// file being written, the end from the hour's last entries, and anything else once it is there.
import type { HourFile } from './day-state.js';
import type { EarlyHour } from './early-hour.js';
import { readFully, type HourReader } from './hour-file-writers.js';
import type { HourProgress } from './hour-progress.js';

/** Reads from the file being written, opened once per writing of it. */
class WrittenPart {
  private opened: { writing: number; reader: Promise<HourReader> } | undefined;

  constructor(private readonly progress: HourProgress) {}

  /** Reads `length` bytes at `position`, all written; undefined when no file is being written. */
  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number | undefined> {
    const { progress } = this;
    if (this.opened?.writing !== progress.writing) {
      this.close();
      const reader = progress.open();
      if (!reader) return undefined;
      this.opened = { writing: progress.writing, reader };
    }
    const reader = await this.opened.reader.catch(() => {
      // Renamed into place or removed a moment ago: the loop waits for the file, or the next writing.
      this.opened = undefined;
      return undefined;
    });
    if (!reader) return undefined;
    if ((await readFully(reader, buffer, offset, length, position)) < length) {
      throw new Error('the hour file being written is shorter than its writer says');
    }
    return length;
  }

  close(): void {
    const opened = this.opened;
    this.opened = undefined;
    void opened?.reader.then((reader) => reader.close()).catch(() => undefined);
  }
}

/**
 * A reader of an early hour; `open` opens its file as the store hands it out, once written, and
 * `readEarly` is told of each read answered before.
 */
export function earlyHourReader(
  early: EarlyHour,
  open: (file: HourFile) => Promise<HourReader>,
  readEarly: () => void,
): HourReader {
  let whole: Promise<HourReader | undefined> | undefined;
  let settled = false;
  let closed = false;
  const ended = early.file.then(
    () => void (settled = true),
    () => void (settled = true),
  );
  const written = new WrittenPart(early.progress);
  const wholeFile = () =>
    (whole ??= early.file.then(async (file) => {
      if (!file) return undefined;
      if (file.size !== early.size) {
        throw new Error(`hour ${early.hour} was announced with ${early.size} bytes, but its file has ${file.size}`);
      }
      return open(file);
    }));
  return {
    async read(buffer, offset, length, position) {
      if (position >= early.size) return { bytesRead: 0 };
      const wanted = Math.min(length, early.size - position);
      while (!settled) {
        if (closed) throw new Error('read after release');
        const change = early.progress.changed();
        if (!early.withdrawn && early.progress.bytes >= position + wanted) {
          const bytesRead = await written.read(buffer, offset, wanted, position);
          if (bytesRead !== undefined) {
            readEarly();
            return { bytesRead };
          }
        }
        const tail = await early.bytesFrom(position);
        if (tail) {
          readEarly();
          return { bytesRead: tail.copy(buffer, offset, 0, wanted) };
        }
        await Promise.race([change, ended]);
      }
      written.close();
      if (closed) throw new Error('read after release');
      const reader = await wholeFile();
      if (!reader) throw new Error(`hour ${early.hour} was announced, but has no entries`);
      // Released while the file was awaited: close() found nothing open yet.
      if (closed) throw new Error('read after release');
      return reader.read(buffer, offset, length, position);
    },
    async close() {
      closed = true;
      written.close();
      const opened = whole?.catch(() => undefined);
      // A file still being written is closed once it is there; the release does not wait for it.
      if (settled) await (await opened)?.close();
      else void opened?.then((reader) => reader?.close()).catch(() => undefined);
    },
  };
}
