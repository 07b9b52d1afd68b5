// SIGINT and SIGTERM, the two ways a user or a service manager asks a process to stop.

export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * Calls `stop` on the first SIGINT and on the first SIGTERM; a second one of the same kind gets
 * the default action, so a process stuck in stopping can still be ended. Returns a function that
 * stops listening.
 */
export function onStopSignal(stop: (signal: StopSignal) => void): () => void {
  const onInterrupt = () => stop('SIGINT');
  const onTerminate = () => stop('SIGTERM');
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onTerminate);
  return () => {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerminate);
  };
}
