// The names a Cloud Logging sink gives its tables: `stdout` and `stderr`, or one shard a day
// (`stdout_20261125`) when the sink writes date-sharded tables.
import type { Stream } from './query-builder.js';

export const STREAMS: readonly Stream[] = ['stdout', 'stderr'];

const SHARD_TABLE = /^(stdout|stderr)_(\d{8})$/;

/** Whether the id is a sink's table, partitioned or one day's shard. */
export function isSinkTable(id: string): boolean {
  return STREAMS.includes(id as Stream) || SHARD_TABLE.test(id);
}

/** The newest shard of a stream among the table ids, which stands for that stream's schema. */
export function newestShard(tableIds: Iterable<string>, stream: Stream): string | undefined {
  return [...tableIds]
    .filter((id) => SHARD_TABLE.exec(id)?.[1] === stream)
    .sort()
    .pop();
}
