// Keeps the demo's current hour growing: every tick inserts what the cluster logged since the last
// insert that succeeded, so a failed or slow insert loses nothing and inserts never overlap.
import type { BigQuery } from '@google-cloud/bigquery';
import type { Logger } from 'pino';
import { insertEntries } from './sink-tables.js';
import { syntheticEntries } from './synthetic-logs.js';

export interface LiveFeed {
  stop(): Promise<void>;
}

export function startLiveFeed(
  client: BigQuery,
  datasetId: string,
  options: { fromMs: number; everyMs: number },
  log: Logger,
): LiveFeed {
  let insertedThroughMs = options.fromMs;
  let inserting: Promise<void> = Promise.resolve();
  let busy = false;
  const tick = () => {
    if (busy) return;
    busy = true;
    const untilMs = Date.now();
    inserting = insertEntries(client, datasetId, 'partitioned', syntheticEntries(insertedThroughMs, untilMs))
      .then(
        () => void (insertedThroughMs = untilMs),
        (error: unknown) => log.warn({ err: error }, 'demo: inserting live entries failed; retrying next tick'),
      )
      .finally(() => (busy = false));
  };
  const timer = setInterval(tick, options.everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await inserting;
    },
  };
}
