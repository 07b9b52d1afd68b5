// A text value left as the UTF-8 bytes it was read as, for a reader that writes it to a file as it
// is: decoding it into a JS string only to encode it back costs an allocation the size of the text.
import { Buffer } from 'node:buffer';

/**
 * Values at most this long are copied byte by byte; longer ones through a view, which costs an
 * allocation (about 100 bytes) but copies a 200-byte line several times faster than a JS loop.
 */
const COPIED_BY_BYTE = 16;

/**
 * Bytes [start, end) of `bytes`, valid UTF-8 (BigQuery's STRING values are). The bytes lie in a
 * buffer that is reused once the delivery that handed the value over resolves: whoever keeps the
 * value longer keeps `toString()` of it instead.
 */
export class Utf8Text {
  constructor(
    readonly bytes: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}

  get byteLength(): number {
    return this.end - this.start;
  }

  /** The value without its last byte when that is `byte`, else the value itself. */
  withoutLast(byte: number): Utf8Text {
    return this.end > this.start && this.bytes[this.end - 1] === byte
      ? new Utf8Text(this.bytes, this.start, this.end - 1)
      : this;
  }

  /** Copies the bytes into `target` at `at`; returns how many. */
  copyTo(target: Uint8Array, at: number): number {
    const { bytes, start, end } = this;
    if (end - start > COPIED_BY_BYTE) {
      target.set(bytes.subarray(start, end), at);
    } else {
      for (let from = start, to = at; from < end; from++, to++) target[to] = bytes[from]!;
    }
    return end - start;
  }

  toString(): string {
    return this.bytes.toString('utf8', this.start, this.end);
  }
}

/** A value of a row that may hold Utf8Text, as a string. */
export function textOf(value: string | Utf8Text): string;
export function textOf(value: string | Utf8Text | null | undefined): string | null | undefined;
export function textOf(value: string | Utf8Text | null | undefined): string | null | undefined {
  return value instanceof Utf8Text ? value.toString() : value;
}
