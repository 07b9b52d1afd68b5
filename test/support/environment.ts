// One local BigQuery server per test file, loaded through the real client with the fixtures in
// both table layouts, plus the same files written to a plain directory for side-by-side comparison.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import { emulatorClient } from '../../src/emulator/client.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import type { TableLayout } from '../../src/query-builder.js';
import { createSinkTables, insertEntries } from '../../src/sink-tables.js';
import { tempDir } from './daemon.js';
import { buildFixtures, expectedFiles, FIXTURE_JSON_FIELDS, type Fixtures } from './fixtures.js';

export const PROJECT = 'test-project';
export const LAYOUTS: TableLayout[] = ['partitioned', 'sharded'];

export interface Environment {
  emulator: Emulator;
  client: BigQuery;
  fixtures: Fixtures;
  /** Expected file contents by relative path. */
  files: Map<string, string>;
  /** A plain directory holding the expected files that the listing window covers. */
  plainRoot: string;
  close(): Promise<void>;
}

export function datasetFor(layout: TableLayout): string {
  return `logs_${layout}`;
}

export async function createEnvironment(): Promise<Environment> {
  const emulator = await startEmulator({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);
  const fixtures = buildFixtures(Date.now());
  const days = [fixtures.oldDay, fixtures.dayBefore, fixtures.yesterday, fixtures.today];
  for (const layout of LAYOUTS) {
    await createSinkTables(client, datasetFor(layout), layout, days, FIXTURE_JSON_FIELDS);
    await insertEntries(client, datasetFor(layout), layout, fixtures.entries);
    await insertEntries(client, datasetFor(layout), layout, fixtures.duplicates);
  }
  const files = expectedFiles(fixtures.entries);
  const plainRoot = await tempDir('plain');
  for (const [path, content] of files) {
    if (path.includes(`/${fixtures.oldDay}/`)) continue;
    await mkdir(dirname(join(plainRoot, path)), { recursive: true });
    await writeFile(join(plainRoot, path), content);
  }
  // Each container directory also holds current.log, a symlink to the hour filling now.
  const now = new Date();
  const currentHour = `${now.toISOString().slice(0, 10)}/${now.toISOString().slice(11, 13)}.log`;
  const containerDirs = new Set(
    [...files.keys()]
      .filter((path) => !path.includes(`/${fixtures.oldDay}/`))
      .map((path) => path.split('/').slice(0, 3).join('/')),
  );
  for (const dir of containerDirs) await symlink(currentHour, join(plainRoot, dir, 'current.log'));
  return { emulator, client, fixtures, files, plainRoot, close: () => emulator.close() };
}
