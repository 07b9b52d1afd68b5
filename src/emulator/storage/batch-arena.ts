// Memory for the column buffers of one record batch at a time, reused from batch to batch. A batch's
// buffers live only until its message has been written out, so one block of memory serves them all;
// allocating fresh typed arrays for every batch made the local server spend much of a large read
// in the garbage collector.

const ALIGNMENT = 8;

export class BatchArena {
  private block = new ArrayBuffer(0);
  private used = 0;

  /** Forgets every buffer handed out so far: their memory is reused by the next batch. */
  reset(): void {
    this.used = 0;
  }

  /**
   * `bytes` bytes, 8-byte aligned, valid until the next reset; their content is whatever the last
   * batch left there, unless `zeroed`.
   */
  take(bytes: number, zeroed = false): Uint8Array {
    const start = (this.used + ALIGNMENT - 1) & ~(ALIGNMENT - 1);
    if (start + bytes > this.block.byteLength) {
      // Buffers handed out before keep the old block alive until the batch is done with them.
      this.block = new ArrayBuffer(Math.max(bytes, this.block.byteLength * 2, 64 * 1024));
      this.used = 0;
      return this.take(bytes, zeroed);
    }
    this.used = start + bytes;
    const view = new Uint8Array(this.block, start, bytes);
    if (zeroed) view.fill(0);
    return view;
  }
}
