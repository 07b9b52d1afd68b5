// The local server with the data set of the cold-read benches: a big hour of a chosen size and the
// bench's background pods, loaded through the real client, or reused from a DuckDB file that holds
// them already.
import { stat } from 'node:fs/promises';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { emulatorClient } from '../src/emulator/client.js';
import type { Emulator, EmulatorOptions } from '../src/emulator/server.js';
import { startLocalServer } from './local-server.js';
import { backgroundEntries, DATASET, hourEntries, PROJECT, type SizedHour } from './data.js';

/** A local server holding `big` on `day`: loaded now, or as it is in `db` when that file exists. */
export async function bigHourServer(
  big: SizedHour,
  day: string,
  db?: string,
  options: EmulatorOptions = {},
): Promise<Emulator> {
  const loaded = db !== undefined && (await stat(db).catch(() => undefined)) !== undefined;
  const emulator = await startLocalServer({ ...options, port: 0, ...(db !== undefined && { dbPath: db }) });
  if (!loaded) {
    process.stderr.write(`loading a ${Math.round(big.bytes / 2 ** 20)} MiB hour into the local server…\n`);
    const loader = emulatorClient(emulator.url, PROJECT);
    await createSinkTables(loader, DATASET, 'partitioned', [day], []);
    await insertEntries(loader, DATASET, 'partitioned', hourEntries(day, big), 2000);
    await insertEntries(loader, DATASET, 'partitioned', backgroundEntries(day, big.ref), 2000);
  }
  return emulator;
}
