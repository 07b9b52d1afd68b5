// What the loaded fuse-native binding can do beyond fuse-native 2.2.6: scripts/patch-fuse-native.js
// (the package's postinstall) builds it with patches/fuse-native.patch. With it, the mount is given
// libfuse's `intr` option, so a reader killed while its request waits (for BigQuery, say) is let go
// at once instead of when the query ends; and each file's attributes get a timeout of their own, so
// the kernel keeps those of finished hours (kernel-cache.ts). The prebuilt binding lacks both and is
// left as it is: `intr` would only cost signals, and the kernel then caches no attributes.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The signal libfuse sends to a worker thread whose request was interrupted. Not libfuse's default,
 * SIGUSR1: Node handles that one by starting its inspector. A real-time signal nothing else uses.
 */
const INTERRUPT_SIGNAL = 40;

type Binding = { fuse_native_interrupts?: number; fuse_native_attr_timeouts?: number };

export interface BindingFeatures {
  /** Answers a request the kernel interrupted for a caller being killed, without waiting for JS. */
  answersInterrupts: boolean;
  /** Gives each file's attributes the timeout the getattr answer asks for, and keeps the page cache on request. */
  setsAttributeTimeouts: boolean;
}

export function bindingFeatures(): BindingFeatures {
  try {
    const require = createRequire(import.meta.url);
    const directory = dirname(require.resolve('fuse-native/package.json'));
    const load = createRequire(join(directory, 'index.js'))('node-gyp-build') as (dir: string) => Binding;
    const binding = load(directory);
    return {
      answersInterrupts: binding.fuse_native_interrupts === 1,
      setsAttributeTimeouts: binding.fuse_native_attr_timeouts === 1,
    };
  } catch {
    return { answersInterrupts: false, setsAttributeTimeouts: false };
  }
}

/** The libfuse mount options that turn interrupts on, when the binding answers them. */
export function interruptOptions(answersInterrupts: boolean): string[] {
  return answersInterrupts ? ['intr', `intr_signal=${INTERRUPT_SIGNAL}`] : [];
}
