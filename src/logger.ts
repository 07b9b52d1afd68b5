import { pino, type Logger } from 'pino';

/** JSON log lines on stderr, so stdout stays free for command output. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'bqlogfs' } }, pino.destination({ fd: 2, sync: true }));
}
