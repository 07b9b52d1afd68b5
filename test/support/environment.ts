// One local BigQuery server per test file, loaded through the real client with the fixtures in
// both table layouts, plus the same files written to a plain directory for side-by-side comparison.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Test } from 'tap';
import { emulatorClient } from '../../src/emulator/client.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import type { TableLayout } from '../../src/bigquery/query-builder.js';
import { createSinkTables, insertEntries } from '../../src/demo/sink-tables.js';
import { serverArgs } from './cli-process.js';
import { mountTemp, removeDir, tempDir, type TempMount } from './daemon.js';
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

/** The flags that point a command at the fixture dataset of one layout. */
export function fixtureArgs(environment: Environment, layout: TableLayout = 'partitioned'): string[] {
  return serverArgs(environment.emulator, PROJECT, datasetFor(layout));
}

/** Creates a dataset of sink tables holding the fixture entries, each duplicate delivered twice. */
export async function loadFixtures(
  client: BigQuery,
  fixtures: Fixtures,
  dataset: string,
  layout: TableLayout,
): Promise<void> {
  const days = [fixtures.oldDay, fixtures.dayBefore, fixtures.yesterday, fixtures.today];
  await createSinkTables(client, dataset, layout, days, FIXTURE_JSON_FIELDS);
  await insertEntries(client, dataset, layout, fixtures.entries);
  await insertEntries(client, dataset, layout, fixtures.duplicates);
}

export async function createEnvironment(): Promise<Environment> {
  const emulator = await startEmulator({ port: 0 });
  const client = emulatorClient(emulator.url, PROJECT);
  const fixtures = buildFixtures(Date.now());
  for (const layout of LAYOUTS) await loadFixtures(client, fixtures, datasetFor(layout), layout);
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
  return {
    emulator,
    client,
    fixtures,
    files,
    plainRoot,
    close: async () => {
      await emulator.close();
      await removeDir(plainRoot);
    },
  };
}

/** Mounts one of the fixture datasets with a fresh cache; unmounts and cleans up at the test's end. */
export async function mountFixtures(
  t: { teardown(fn: () => Promise<void>): void },
  environment: Environment,
  extra: string[] = [],
  layout: TableLayout = 'partitioned',
): Promise<TempMount> {
  return mountTemp(t, [...fixtureArgs(environment, layout), ...extra]);
}

/**
 * One environment for a whole test file: created before its first test, closed after its last.
 * The faults a test sets end with that test.
 */
export function fileEnvironment(t: Test): () => Environment {
  let environment: Environment | undefined;
  t.before(async () => {
    environment = await createEnvironment();
  });
  t.afterEach(() => environment?.emulator.faults.clear());
  t.teardown(async () => {
    await environment?.close();
  });
  return () => {
    if (!environment) throw new Error('the environment is created before the first test');
    return environment;
  };
}

/**
 * Environments for the tests of a file that run side by side: a test takes one for itself until it
 * ends, so the fault plan it sets and the server counters it reads are its own. `prepare` loads
 * whatever else the file's tests need into each.
 */
export function environmentPool(
  t: Test,
  size: number,
  prepare: (environment: Environment) => Promise<void> = async () => undefined,
): (t: Test) => Promise<Environment> {
  const all: Environment[] = [];
  const idle: Environment[] = [];
  const waiting: ((environment: Environment) => void)[] = [];
  t.before(async () => {
    const created = await Promise.all(
      Array.from({ length: size }, async () => {
        const environment = await createEnvironment();
        await prepare(environment);
        return environment;
      }),
    );
    all.push(...created);
    idle.push(...created);
  });
  t.teardown(async () => {
    for (const environment of all) await environment.close();
  });
  const release = (environment: Environment) => {
    environment.emulator.faults.clear();
    const next = waiting.shift();
    if (next) next(environment);
    else idle.push(environment);
  };
  return async (t) => {
    const environment = idle.pop() ?? (await new Promise<Environment>((resolve) => waiting.push(resolve)));
    // The first teardown registered runs last: after the test's mounts are gone.
    t.teardown(async () => release(environment));
    return environment;
  };
}
