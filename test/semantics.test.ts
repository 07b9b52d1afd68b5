// docs/semantics.md is the behaviour contract, and its examples are the test: the entries its data
// table describes are loaded through the real BigQuery client, each set of mount options its
// examples name gets a real daemon whose clock reads the document's "now", and every `$` command
// must print exactly the lines the document shows.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createSinkTables, insertEntries } from '../src/demo/sink-tables.js';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { serverArgs } from './support/cli-process.js';
import { mountTemp, type Daemon } from './support/daemon.js';
import { PROJECT } from './support/environment.js';
import { jsonPayloadFields, parseSemantics } from './support/semantics-examples.js';
import { sh } from './support/shell.js';

const DOCUMENT = resolve(import.meta.dirname, '../docs/semantics.md');
const DATASET = 'gke_logs';

const semantics = parseSemantics(await readFile(DOCUMENT, 'utf8'));

/** The mount options of an example, as one key; '' is the plain mount. */
const optionsKey = (flags: string[]) => flags.join(' ');

const daemons = new Map<string, Daemon>();

t.before(async () => {
  const emulator = await startEmulator({ port: 0 });
  // Teardowns run last first: the mounts go before the server.
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  const payloads = semantics.entries.flatMap((entry) => (entry.jsonPayload ? [entry.jsonPayload] : []));
  const split = semantics.entries.some((entry) => entry.split !== undefined);
  await createSinkTables(client, DATASET, 'partitioned', [], jsonPayloadFields(payloads), { split });
  await insertEntries(client, DATASET, 'partitioned', semantics.entries);
  const optionSets = [...new Map(semantics.examples.map((example) => [optionsKey(example.flags), example.flags]))];
  // The mounts start at once; each daemon's clock starts at the document's "now" when it starts.
  await Promise.all(
    optionSets.map(async ([key, flags]) => {
      const clockOffsetS = Math.round((Date.parse(semantics.clock) - Date.now()) / 1000);
      const { daemon } = await mountTemp(t, [...serverArgs(emulator, PROJECT, DATASET), ...flags], {
        clockOffsetS,
      });
      daemons.set(key, daemon);
    }),
  );
});

t.test('the document loads data, a clock and examples', async (t) => {
  t.ok(semantics.entries.length > 0, `${semantics.entries.length} entries`);
  t.ok(semantics.examples.length > 0, `${semantics.examples.length} examples`);
  for (const example of semantics.examples) t.ok(example.steps.length > 0, `line ${example.line} has commands`);
});

for (const example of semantics.examples) {
  const mount = example.flags.length > 0 ? ` (${optionsKey(example.flags)})` : '';
  t.test(`docs/semantics.md:${example.line}${mount}`, async (t) => {
    const daemon = daemons.get(optionsKey(example.flags));
    if (!daemon) throw new Error(`no mount for ${optionsKey(example.flags)}`);
    for (const step of example.steps) {
      // One line, so that errors bash reports itself say "line 1", as they do for `bash -c`.
      const result = await sh(`exec 2>&1; export TZ=UTC; ${step.command}`, daemon.mountpoint);
      t.equal(result.stdout + result.stderr, step.expected, `$ ${step.command}`);
    }
    if (t.passing()) return;
    t.comment(`the daemon's log ends with:\n${daemon.logs().slice(-4_000)}`);
  });
}
