// For tests of hours too big for the daemon to hold: a local server loaded with generated entries
// through the real client, and the digest of a file read in chunks.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { BigQuery } from '@google-cloud/bigquery';
import { emulatorClient } from '../../src/emulator/client.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { createSinkTables, insertEntries, type LogEntry } from '../../src/demo/sink-tables.js';

type Teardown = { teardown(fn: () => Promise<void>): void };

/** A local server with partitioned sink tables for `day`, holding `entries`; closed when the test ends. */
export async function serverWith(
  t: Teardown,
  project: string,
  dataset: string,
  day: string,
  entries: Iterable<LogEntry>,
): Promise<{ emulator: Emulator; client: BigQuery }> {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, project);
  await createSinkTables(client, dataset, 'partitioned', [day], []);
  await insertEntries(client, dataset, 'partitioned', entries, 5000);
  return { emulator, client };
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
