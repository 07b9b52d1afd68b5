// One open descriptor per final hour file, shared by its readers and kept a moment after the last
// one leaves. A `cat` of an hour whose pages the kernel caches sends the daemon an open and a
// release and no read; without sharing, each of them also opened and closed the cached file, two
// trips through libuv's thread pool. A final file's bytes never change, and a file fetched again
// (after damage or eviction) is another HourFile, so a shared descriptor reads what a fresh one would.
import type { HourReader } from './hour-file-writers.js';

/** How long a final file stays open after its last reader left. */
export const SHARED_READER_IDLE_MS = 2_000;

interface Shared {
  reader: Promise<HourReader>;
  readers: number;
  idle?: NodeJS.Timeout;
}

export class SharedReaders<File extends object> {
  private readonly shared = new Map<File, Shared>();

  constructor(private readonly idleMs = SHARED_READER_IDLE_MS) {}

  /** A reader of `file`, sharing the descriptor `openFile` gave an earlier reader if it is still open. */
  async open(file: File, openFile: () => Promise<HourReader>): Promise<HourReader> {
    let shared = this.shared.get(file);
    if (!shared) {
      shared = { reader: openFile(), readers: 0 };
      this.shared.set(file, shared);
    }
    shared.readers++;
    clearTimeout(shared.idle);
    shared.idle = undefined;
    let reader: HourReader;
    try {
      reader = await shared.reader;
    } catch (error) {
      shared.readers--;
      if (this.shared.get(file) === shared) this.shared.delete(file);
      throw error;
    }
    let closed = false;
    return {
      read: (buffer, offset, length, position) => reader.read(buffer, offset, length, position),
      descriptor: () => (closed ? undefined : reader.descriptor?.()),
      close: async () => {
        if (closed) return;
        closed = true;
        this.leave(file, shared);
      },
    };
  }

  /** Closes every descriptor no reader holds; the ones still read are closed when their readers leave. */
  async closeIdle(): Promise<void> {
    const idle = [...this.shared].filter(([, shared]) => shared.readers === 0);
    await Promise.all(idle.map(([file, shared]) => this.close(file, shared)));
  }

  /** Descriptors open, read or idle. */
  get size(): number {
    return this.shared.size;
  }

  private leave(file: File, shared: Shared): void {
    if (--shared.readers > 0) return;
    shared.idle = setTimeout(() => void this.close(file, shared), this.idleMs);
    shared.idle.unref();
  }

  private async close(file: File, shared: Shared): Promise<void> {
    clearTimeout(shared.idle);
    if (this.shared.get(file) === shared) this.shared.delete(file);
    await (await shared.reader).close();
  }
}
