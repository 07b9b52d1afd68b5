// Buffers that reads of cached files land in before they are copied into the kernel's buffer.
// fuse-native's buffer is only valid until the read is answered, and a read that outlives its FUSE
// timeout would be answered before the disk read filled it; so disk reads never write into it.
// Reusing the buffers keeps V8 from collecting garbage for every read, which halves throughput.

/** The most the kernel asks for in one read. */
export const MAX_READ_BYTES = 128 * 1024;
/** Free buffers kept: the kernel rarely has more reads of the mount in flight than this. */
const KEPT_BUFFERS = 16;

export class ReadBuffers {
  private readonly free: Buffer[] = [];

  take(length: number): Buffer {
    if (length > MAX_READ_BYTES) return Buffer.allocUnsafeSlow(length);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(MAX_READ_BYTES);
  }

  give(buffer: Buffer): void {
    if (buffer.length === MAX_READ_BYTES && this.free.length < KEPT_BUFFERS) this.free.push(buffer);
  }
}
