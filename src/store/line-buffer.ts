// Lines on their way into an hour file, encoded into one reused buffer as they come. Each line's
// string can be collected at once: a string that grew by concatenation until it was written would
// outlive many young-generation collections (the daemon keeps that generation at 2 MB), be copied
// at each, and be flattened again when written. A line comes without its newline, which is added
// here as a byte: a payload is written as the string it was read as, not as a new string that
// joins it to a newline (V8 copies a joined string once more to encode it), and a payload that came
// as its UTF-8 bytes is copied as they are, without a string at all.
import { Buffer } from 'node:buffer';
import { Utf8Text } from '../bigquery/utf8-text.js';
import type { LineBody } from './entry-format.js';

/** Bytes gathered before they are written; a longer line is written on its own. */
const BUFFER_BYTES = 1 << 20;
/** The most UTF-8 bytes one UTF-16 code unit can take. */
const MAX_BYTES_PER_UNIT = 3;
const NEWLINE = 0x0a;

/** Where the gathered bytes go; the buffer is reused once the returned promise resolves. */
export type LineSink = (bytes: Buffer) => Promise<void>;

export class LineBuffer {
  private buffer: Buffer | undefined;
  private used = 0;

  /**
   * Adds a line bound for `sink`: `text` and a newline. Returns undefined when it just went into
   * the buffer, or a promise of the writes that making room for it took (the line is in by then).
   */
  add(text: LineBody, sink: LineSink): Promise<void> | undefined {
    const most = (text instanceof Utf8Text ? text.byteLength : text.length * MAX_BYTES_PER_UNIT) + 1;
    if (this.used + most <= BUFFER_BYTES) {
      this.append(text);
      return undefined;
    }
    return this.addAfterFlush(text, most, sink);
  }

  /** Writes what was gathered to `sink`. */
  async flush(sink: LineSink): Promise<void> {
    if (this.used === 0 || !this.buffer) return;
    const bytes = this.buffer.subarray(0, this.used);
    this.used = 0;
    await sink(bytes);
  }

  /** Drops what was gathered and not written. */
  discard(): void {
    this.used = 0;
  }

  private append(text: LineBody): void {
    this.buffer ??= Buffer.allocUnsafe(BUFFER_BYTES);
    this.used += text instanceof Utf8Text ? text.copyTo(this.buffer, this.used) : this.buffer.write(text, this.used);
    this.buffer[this.used++] = NEWLINE;
  }

  private async addAfterFlush(text: LineBody, most: number, sink: LineSink): Promise<void> {
    await this.flush(sink);
    if (most > BUFFER_BYTES) {
      await sink(text instanceof Utf8Text ? withNewline(text) : Buffer.from(`${text}\n`));
      return;
    }
    this.append(text);
  }
}

function withNewline(text: Utf8Text): Buffer {
  const bytes = Buffer.allocUnsafe(text.byteLength + 1);
  bytes[text.copyTo(bytes, 0)] = NEWLINE;
  return bytes;
}
