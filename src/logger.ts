import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Log lines on stderr, so stdout stays free for command output: JSON lines for journald and log
 * shippers, readable lines when a person watches a terminal.
 */
export function createLogger(level: string): Logger {
  const options = { level, base: { name: 'bqlogfs' } };
  if (process.stderr.isTTY) {
    return pino(
      options,
      pretty({ destination: 2, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }),
    );
  }
  return pino(options, pino.destination({ fd: 2, sync: true }));
}
