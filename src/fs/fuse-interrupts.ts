// Whether the loaded fuse-native binding answers interrupted requests: scripts/patch-fuse-native.js
// (the package's postinstall) builds it with patches/fuse-native-interrupt.patch. With it, the mount
// is given libfuse's `intr` option, and a reader killed while its request waits (for BigQuery, say)
// is let go at once instead of when the query ends. The prebuilt binding lacks it and is left as it
// is: `intr` would only cost signals.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The signal libfuse sends to a worker thread whose request was interrupted. Not libfuse's default,
 * SIGUSR1: Node handles that one by starting its inspector. A real-time signal nothing else uses.
 */
const INTERRUPT_SIGNAL = 40;

type Binding = { fuse_native_interrupts?: number };

export function bindingAnswersInterrupts(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const directory = dirname(require.resolve('fuse-native/package.json'));
    const load = createRequire(join(directory, 'index.js'))('node-gyp-build') as (dir: string) => Binding;
    return load(directory).fuse_native_interrupts === 1;
  } catch {
    return false;
  }
}

/** The libfuse mount options that turn interrupts on, when the binding answers them. */
export function interruptOptions(answersInterrupts: boolean): string[] {
  return answersInterrupts ? ['intr', `intr_signal=${INTERRUPT_SIGNAL}`] : [];
}
