// Reads of open files whose bytes never change, handed over to be served straight from their
// descriptors off the JS thread (by the FUSE binding's worker threads: fuse-binding.ts), and taken
// back when the file is released, before its reader closes the descriptor.
import type { HourReader } from '../store/disk-cache.js';
import type { HourDescriptor } from '../store/hour-file-writers.js';

/** What serves them. */
export interface DirectReads {
  /** Hands over the reads of `handle`, `size` bytes of `descriptor`; false when they stay with JS. */
  start(handle: number, size: number, descriptor: HourDescriptor): boolean;
  /**
   * Takes them back, once no read of the descriptor is under way; it may then be closed. Sets
   * `checked[block]` to 1 for each block found to match its checksum, when given.
   */
  end(handle: number, checked?: Uint8Array): void;
  /** Reads served so far, and their bytes. */
  counts(): { reads: number; bytes: number };
}

/** The handles whose reads are handed over; none until a DirectReads is given. */
export class HandedOverReads {
  private directReads: DirectReads | undefined;
  private readonly handles = new Map<number, HourDescriptor>();

  serveWith(directReads: DirectReads): void {
    this.directReads = directReads;
  }

  /** Hands over the reads of a final hour's file just opened as `handle`, if its reader has a descriptor. */
  start(handle: number, size: number, reader: HourReader): void {
    const descriptor = reader.descriptor?.();
    if (this.directReads && descriptor && this.directReads.start(handle, size, descriptor))
      this.handles.set(handle, descriptor);
  }

  /** Takes back the reads of `handle`, if they were handed over, and tells its reader the blocks checked. */
  end(handle: number): void {
    const descriptor = this.handles.get(handle);
    if (!descriptor) return;
    this.handles.delete(handle);
    const { blockChecksums, blocksChecked } = descriptor;
    const checked = blockChecksums && blocksChecked ? new Uint8Array(blockChecksums.length) : undefined;
    this.directReads?.end(handle, checked);
    if (checked) blocksChecked?.(checked);
  }
}
