import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Defence in depth: HTTP client errors carry the request they failed on. Those of gaxios (token
 * exchanges, the metadata server) have its headers and its body, which may be a form with a subject
 * token, refresh token or client secret; an ApiError of the BigQuery client keeps the request's
 * headers, the bearer token included, under `response.request`.
 */
export const REDACTED_PATHS: readonly string[] = [
  'err.config.headers.authorization',
  'err.config.headers.Authorization',
  'err.config.data',
  'err.config.body',
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * pino's error serializer, with the HTTP parts of a client error as plain objects. Redaction copies
 * the objects on its paths, and copying a fetch Response (a gaxios error's `response`) throws; so
 * `config` becomes a plain copy for the paths above, and `response` only its status, which also
 * leaves out the request it keeps.
 */
function serializeError(error: Error): unknown {
  const serialized: unknown = pino.stdSerializers.err(error);
  if (!isObject(serialized)) return serialized;
  if (isObject(serialized.config)) serialized.config = { ...serialized.config };
  if (isObject(serialized.response)) {
    const { status, statusCode } = serialized.response;
    serialized.response = { status: status ?? statusCode };
  }
  return serialized;
}

/**
 * Log lines on stderr, so stdout stays free for command output: JSON lines for journald and log
 * shippers, readable lines when a person watches a terminal.
 */
export function createLogger(level: string): Logger {
  const options = {
    level,
    base: { name: 'bqlogfs' },
    serializers: { err: serializeError },
    redact: [...REDACTED_PATHS],
  };
  if (process.stderr.isTTY) {
    return pino(
      options,
      pretty({ destination: 2, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }),
    );
  }
  return pino(options, pino.destination({ fd: 2, sync: true }));
}
