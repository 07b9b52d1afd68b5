// The local server with the data set of the cold-read benches: a big hour of a chosen size and the
// bench's background pods, loaded through the real client, or reused from a DuckDB file that holds
// them already.
import { rm, stat } from 'node:fs/promises';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { emulatorClient } from '../src/emulator/client.js';
import type { Emulator, EmulatorOptions } from '../src/emulator/server.js';
import { startLocalServer } from './local-server.js';
import { backgroundEntries, DATASET, hourEntries, PROJECT, type SizedHour } from './data.js';

/**
 * A local server holding `big` on `day`: loaded now, or as it is in `db` when that file exists and
 * holds that day. A file loaded on an earlier day (the bench's day follows the clock) is loaded again.
 */
export async function bigHourServer(
  big: SizedHour,
  day: string,
  db?: string,
  options: EmulatorOptions = {},
): Promise<Emulator> {
  const mib = Math.round(big.bytes / 2 ** 20);
  const start = () => startLocalServer({ ...options, port: 0, ...(db !== undefined && { dbPath: db }) });
  let loaded = db !== undefined && (await stat(db).catch(() => undefined)) !== undefined;
  let emulator = await start();
  if (db !== undefined && loaded && !(await holdsDay(emulator, big, day))) {
    process.stderr.write(`${db} holds no ${mib} MiB hour on ${day}: loading it again\n`);
    await emulator.close();
    await Promise.all([rm(db, { force: true }), rm(`${db}.wal`, { force: true })]);
    loaded = false;
    emulator = await start();
  }
  if (!loaded) {
    process.stderr.write(`loading a ${mib} MiB hour into the local server…\n`);
    const loader = emulatorClient(emulator.url, PROJECT);
    await createSinkTables(loader, DATASET, 'partitioned', [day], []);
    await insertEntries(loader, DATASET, 'partitioned', hourEntries(day, big), 2000);
    await insertEntries(loader, DATASET, 'partitioned', backgroundEntries(day, big.ref), 2000);
  }
  return emulator;
}

/** Whether the local server holds entries of the big hour's container on `day`. */
async function holdsDay(emulator: Emulator, big: SizedHour, day: string): Promise<boolean> {
  const [rows] = await emulatorClient(emulator.url, PROJECT).query({
    query:
      `SELECT COUNT(*) AS entries FROM \`${PROJECT}.${DATASET}.stdout\`` +
      ' WHERE DATE(timestamp) = CAST(@day AS DATE) AND resource.labels.namespace_name = @namespace',
    params: { day, namespace: big.ref.namespace },
    types: { day: 'STRING', namespace: 'STRING' },
  });
  return Number((rows as { entries: number }[])[0]?.entries ?? 0) > 0;
}
