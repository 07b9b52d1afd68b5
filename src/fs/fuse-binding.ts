// What the loaded fuse-native binding can do beyond fuse-native 2.2.6: scripts/patch-fuse-native.js
// (the package's postinstall) builds it with patches/fuse-native.patch. With it, the mount is given
// libfuse's `intr` option, so a reader killed while its request waits (for BigQuery, say) is let go
// at once instead of when the query ends; each file's attributes get a timeout of their own, so the
// kernel keeps those of finished hours (kernel-cache.ts); and the reads of a finished hour in the
// disk cache are answered by the binding's worker threads (direct-reads.ts). The prebuilt binding
// lacks all three and is left as it is: `intr` would only cost signals, the kernel then caches no
// attributes, and every read takes its turn on the JS thread.
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CHECKED_BLOCK_BYTES } from '../store/hour-file-writers.js';
import type { DirectReads } from './direct-reads.js';

/**
 * The signal libfuse sends to a worker thread whose request was interrupted. Not libfuse's default,
 * SIGUSR1: Node handles that one by starting its inspector. A real-time signal nothing else uses.
 */
const INTERRUPT_SIGNAL = 40;

type Binding = {
  fuse_native_interrupts?: number;
  fuse_native_attr_timeouts?: number;
  fuse_native_abandoned_opens?: number;
  fuse_native_take_abandoned_open?: (thread: Buffer) => number;
  fuse_native_direct_reads?: number;
  fuse_native_direct_read?: (
    thread: Buffer,
    handle: number,
    fd: number,
    size: number,
    blockBytes: number,
    checksums: Buffer | null,
  ) => number;
  fuse_native_direct_read_end?: (thread: Buffer, handle: number, checked: Buffer | null) => number;
  fuse_native_direct_read_counts?: (thread: Buffer) => [number, number];
};

export interface BindingFeatures {
  /** Answers a request the kernel interrupted for a caller being killed, without waiting for JS. */
  answersInterrupts: boolean;
  /** Gives each file's attributes the timeout the getattr answer asks for, and keeps the page cache on request. */
  setsAttributeTimeouts: boolean;
  /**
   * The handle of the open last answered after the kernel gave up on it (a reader killed while its
   * open waited), taken once, or 0; undefined when the binding cannot tell. `thread` is the mount's.
   */
  takeAbandonedOpen?: (thread: Buffer) => number;
  /**
   * Reads of a final hour's file served by the binding's worker threads from its descriptor, each
   * block checked against its checksum once, without a trip to the JS thread. `thread`: the mount's.
   */
  directReads?: (thread: () => Buffer | null) => DirectReads;
}

/** The binding fuse-native loads: node-gyp-build returns the one module it already required. */
function loadBinding(): Binding | undefined {
  try {
    const require = createRequire(import.meta.url);
    const directory = dirname(require.resolve('fuse-native/package.json'));
    const load = createRequire(join(directory, 'index.js'))('node-gyp-build') as (dir: string) => Binding;
    return load(directory);
  } catch {
    return undefined;
  }
}

export function bindingFeatures(): BindingFeatures {
  const binding = loadBinding();
  const take = binding?.fuse_native_take_abandoned_open;
  const direct = binding && binding.fuse_native_direct_reads === 1 ? directReadsOf(binding) : undefined;
  return {
    answersInterrupts: binding?.fuse_native_interrupts === 1,
    setsAttributeTimeouts: binding?.fuse_native_attr_timeouts === 1,
    ...(binding?.fuse_native_abandoned_opens === 1 && take && { takeAbandonedOpen: take }),
    ...(direct && { directReads: direct }),
  };
}

function directReadsOf(binding: Binding): BindingFeatures['directReads'] {
  const { fuse_native_direct_read: start, fuse_native_direct_read_end: end } = binding;
  const counts = binding.fuse_native_direct_read_counts;
  if (!start || !end || !counts) return undefined;
  return (thread) => ({
    start: (handle, size, descriptor) => {
      const mounted = thread();
      if (!mounted || descriptor.fd < 0) return false;
      const checksums = descriptor.blockChecksums ? bytesOf(descriptor.blockChecksums) : null;
      return start(mounted, handle, descriptor.fd, size, CHECKED_BLOCK_BYTES, checksums) === 1;
    },
    end: (handle, checked) => {
      const mounted = thread();
      if (mounted) end(mounted, handle, checked ? bytesOf(checked) : null);
    },
    counts: () => {
      const mounted = thread();
      if (!mounted) return { reads: 0, bytes: 0 };
      const [reads, bytes] = counts(mounted);
      return { reads, bytes };
    },
  });
}

/** The same memory as a Buffer, which the binding takes: uint32 values in this machine's byte order. */
function bytesOf(array: Uint32Array | Uint8Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** The libfuse mount options that turn interrupts on, when the binding answers them. */
export function interruptOptions(answersInterrupts: boolean): string[] {
  return answersInterrupts ? ['intr', `intr_signal=${INTERRUPT_SIGNAL}`] : [];
}
