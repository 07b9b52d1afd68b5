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

/** Stops asked for while something is starting, held until it is up. */
export interface HeldStops {
  /** From now on stops go to `stop`; one that came while starting goes now. True if one had come. */
  started(stop: (reason: string) => void): boolean;
  /** A stop for a reason of the caller's own: held while starting, else passed on. */
  stop(reason: string): void;
}

/**
 * Listens for SIGINT and SIGTERM from now on and holds a stop asked for until `started`. Call it
 * before a mount starts: a signal that came while the mount was being set up would otherwise end
 * the process with its default action and leave that mount behind, stale. `onHeld` is told of the
 * first stop held. As with onStopSignal, a second signal of the same kind ends the process at once.
 */
export function holdStopsWhileStarting(onHeld: (reason: string) => void): HeldStops {
  let asked: string | undefined;
  let stop = (reason: string) => {
    if (asked === undefined) onHeld(reason);
    asked ??= reason;
  };
  onStopSignal((signal) => stop(signal));
  return {
    started(started) {
      stop = started;
      if (asked === undefined) return false;
      started(asked);
      return true;
    },
    stop: (reason) => stop(reason),
  };
}
