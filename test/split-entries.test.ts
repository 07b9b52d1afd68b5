// Entries Cloud Logging split into parts (split.uid, split.index, split.totalSplits) are joined back
// into one line, at the position of their first part, in a real mount over the local server. The
// expected files are computed here from the inserted parts, independently of the SQL that joins them.
import t from 'tap';
import { emulatorClient } from '../src/emulator/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { createSinkTables, insertEntries, type LogEntry } from '../src/demo/sink-tables.js';
import { columnPaths, type SchemaField } from '../src/bigquery/log-schemas.js';
import {
  containerDaysQuery,
  entriesQuery,
  hoursQuery,
  sweepQuery,
  type BuiltQuery,
  type LogSource,
} from '../src/bigquery/query-builder.js';
import { runCli, serverArgs } from './support/cli-process.js';
import { mountTemp } from './support/daemon.js';
import { shOk } from './support/shell.js';
import { expectedFiles } from './support/fixtures.js';
import { joinSplitParts } from './support/split-fixtures.js';

const PROJECT = 'split-project';
const DATASET = 'split_logs';
const REF = { namespace: 'split', pod: 'web-0', container: 'app' } as const;
const DIR = `${REF.namespace}/${REF.pod}/${REF.container}`;
const DAY_MS = 86_400_000;

// Two days ago: finished, and inside the listing window.
const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
const dayName = new Date(dayStart).toISOString().slice(0, 10);
const nextDayName = new Date(dayStart + DAY_MS).toISOString().slice(0, 10);
const at = (hhmmss: string, dayOffset = 0) =>
  `${new Date(dayStart + dayOffset * DAY_MS).toISOString().slice(0, 10)}T${hhmmss}Z`;

/** A long line with multibyte characters, so that parts and reads do not fall on character boundaries. */
const long = (tag: string, bytes: number) => {
  let text = `${tag}:`;
  for (let n = 0; text.length < bytes; n++) text += ` ${tag}${n} ünïcødé 日本`;
  return text;
};

type Part = Omit<LogEntry, 'namespace' | 'pod' | 'container' | 'split'> & {
  split?: { uid: string; index: number; totalSplits: number };
};

const A = [long('alpha', 90_000), long('beta', 90_000), long('gamma', 40_000)];
const PARTS: Part[] = [
  { stream: 'stdout', timestamp: at('10:00:00.000000'), insertId: 'p-1', textPayload: 'before' },
  // Three parts across the end of hour 10, the second delivered twice.
  ...A.map((text, index) => ({
    stream: 'stdout' as const,
    timestamp: [at('10:59:59.900000'), at('11:00:00.100000'), at('11:00:00.200000')][index] ?? '',
    insertId: `a-${index}`,
    textPayload: index === 2 ? `${text}\n` : text,
    split: { uid: 'uid-a', index, totalSplits: 3 },
  })),
  {
    stream: 'stdout',
    timestamp: at('11:00:00.100000'),
    insertId: 'a-1',
    textPayload: A[1],
    split: { uid: 'uid-a', index: 1, totalSplits: 3 },
  },
  // Parts on stdout and stderr, at one time.
  {
    stream: 'stdout',
    timestamp: at('10:20:00.000000'),
    insertId: 'c-0',
    textPayload: 'ERROR first half, ',
    split: { uid: 'uid-c', index: 0, totalSplits: 2 },
  },
  {
    stream: 'stderr',
    timestamp: at('10:20:00.000000'),
    insertId: 'c-1',
    textPayload: 'second half',
    split: { uid: 'uid-c', index: 1, totalSplits: 2 },
  },
  { stream: 'stderr', timestamp: at('10:20:00.000000'), insertId: 'b-1', textPayload: 'between, stderr' },
  // Parts 2 and 4 of 4 missing.
  {
    stream: 'stdout',
    timestamp: at('10:30:00.000000'),
    insertId: 'd-0',
    textPayload: 'one;',
    split: { uid: 'uid-d', index: 0, totalSplits: 4 },
  },
  {
    stream: 'stdout',
    timestamp: at('10:30:00.000000'),
    insertId: 'd-2',
    textPayload: 'three;',
    split: { uid: 'uid-d', index: 2, totalSplits: 4 },
  },
  // The first of two parts missing: the line sits where its second part is.
  {
    stream: 'stderr',
    timestamp: at('10:40:00.000000'),
    insertId: 'e-1',
    textPayload: 'tail of e',
    split: { uid: 'uid-e', index: 1, totalSplits: 2 },
  },
  // A structured payload in two parts.
  {
    stream: 'stdout',
    timestamp: at('10:50:00.000000'),
    insertId: 'f-0',
    jsonPayload: { msg: 'first' },
    split: { uid: 'uid-f', index: 0, totalSplits: 2 },
  },
  {
    stream: 'stdout',
    timestamp: at('10:50:00.000000'),
    insertId: 'f-1',
    jsonPayload: { msg: 'second' },
    split: { uid: 'uid-f', index: 1, totalSplits: 2 },
  },
  { stream: 'stdout', timestamp: at('11:30:00.000000'), insertId: 'p-2', textPayload: 'in eleven' },
  // Hour 13 holds only the second part of a line that begins in hour 12: it has no file.
  {
    stream: 'stderr',
    timestamp: at('12:59:59.000000'),
    insertId: 'g-0',
    textPayload: 'g starts, ',
    split: { uid: 'uid-g', index: 0, totalSplits: 2 },
  },
  {
    stream: 'stderr',
    timestamp: at('13:00:01.000000'),
    insertId: 'g-1',
    textPayload: 'g ends',
    split: { uid: 'uid-g', index: 1, totalSplits: 2 },
  },
  // Across the end of the UTC day: each day's read joins only its own parts.
  {
    stream: 'stdout',
    timestamp: at('23:59:59.900000'),
    insertId: 'h-0',
    textPayload: 'h before midnight, ',
    split: { uid: 'uid-h', index: 0, totalSplits: 2 },
  },
  {
    stream: 'stdout',
    timestamp: at('00:00:00.100000', 1),
    insertId: 'h-1',
    textPayload: 'h after midnight',
    split: { uid: 'uid-h', index: 1, totalSplits: 2 },
  },
];

/** What the mount should show, by path below the container: computed from the parts, one UTC day at a time. */
function expectedFilesOf(parts: Part[]): Map<string, string> {
  const files = expectedFiles(joinSplitParts(parts.map((part) => ({ ...REF, ...part }))));
  return new Map([...files].map(([path, content]) => [path.slice(DIR.length + 1), content]));
}

t.test('split entries are joined into one line at their first part', async (t) => {
  const emulator = await startEmulator({ port: 0 });
  t.teardown(() => emulator.close());
  const client = emulatorClient(emulator.url, PROJECT);
  await createSinkTables(client, DATASET, 'partitioned', [dayName, nextDayName], [{ name: 'msg', type: 'STRING' }], {
    split: true,
  });
  await insertEntries(
    client,
    DATASET,
    'partitioned',
    PARTS.map((part) => ({ ...REF, ...part })),
  );

  /** The source as discovery finds it: the tables with every column path they have. */
  const sourceOf = async (datasetId: string): Promise<LogSource> => {
    const tables = await Promise.all(
      (['stdout', 'stderr'] as const).map(async (stream) => {
        const [metadata] = await client.dataset(datasetId).table(stream).getMetadata();
        const fields = (metadata as { schema: { fields: SchemaField[] } }).schema.fields;
        return { stream, tableId: stream, columns: columnPaths(fields) };
      }),
    );
    return { projectId: PROJECT, datasetId, layout: 'partitioned', tables };
  };
  type Row = Record<string, unknown>;
  const run = async ({ sql, params, types }: BuiltQuery): Promise<Row[]> => {
    const [rows] = await client.query({ query: sql, params, types: types as Record<string, string> });
    return rows as Row[];
  };
  const bytesProcessed = async ({ sql, params, types }: BuiltQuery): Promise<number> => {
    const [job] = await client.createQueryJob({ query: sql, params, types, dryRun: true });
    return Number(job.metadata.statistics.totalBytesProcessed);
  };

  t.test('entries that were never split cost nothing more', async (t) => {
    const unsplit = PARTS.filter((part) => !part.split).map((part) => ({ ...REF, ...part }));
    for (const [datasetId, split] of [
      ['without_split', false],
      ['with_split', true],
    ] as const) {
      await createSinkTables(client, datasetId, 'partitioned', [], [], { split });
      await insertEntries(client, datasetId, 'partitioned', unsplit);
    }
    const [without, withSplit] = await Promise.all([sourceOf('without_split'), sourceOf('with_split')]);
    t.notOk(
      without.tables.some((table) => table.columns.has('split.uid')),
      'one dataset has no split column',
    );
    t.ok(
      withSplit.tables.every((table) => table.columns.has('split.uid')),
      'the other has it',
    );
    const day = { startMs: dayStart, endMs: dayStart + DAY_MS };
    const sweep = (source: LogSource) => sweepQuery(source, { namespaces: [REF.namespace] }, day, 'UTC');
    const listing = (source: LogSource) => containerDaysQuery(source, day);
    t.notMatch(
      sweep(without).sql,
      /split_uid|split\.uid/,
      'a source without split columns gets the statements it always had',
    );
    t.match(sweep(withSplit).sql, /split\.uid/, 'one with them reads them');
    t.equal(await bytesProcessed(sweep(withSplit)), await bytesProcessed(sweep(without)), 'a sweep: the same bytes');
    t.equal(await bytesProcessed(listing(withSplit)), await bytesProcessed(listing(without)), 'a listing: the same');
  });

  t.test('statements over part of a day join parts as a sweep of the whole day does', async (t) => {
    const source = await sourceOf(DATASET);
    // From hour 11 on, as a fetch of a day whose earlier hours are final in the cache reads it.
    const fromEleven = { startMs: dayStart + 11 * 3_600_000, endMs: dayStart + DAY_MS };
    const rows = await run(entriesQuery(source, REF, fromEleven, fromEleven));
    t.same(
      rows.map((row) => row.textPayload),
      ['in eleven', 'g starts, g ends', 'h before midnight, [bqlogfs: part 2 of 2 missing]'],
      'the entries query: no line for the later parts of a line of hour 10',
    );
    const hours = await run(hoursQuery(source, REF, { startMs: dayStart, endMs: dayStart + DAY_MS }));
    t.same(
      hours.map((row) => row.hour),
      [10, 11, 12, 23],
      'the hours query: no hour with only later parts',
    );
  });

  const { mountpoint } = (await mountTemp(t, serverArgs(emulator, PROJECT, DATASET))).daemon;
  const expected = expectedFilesOf(PARTS);

  t.same(
    (await shOk(`ls ${DIR}/${dayName}`, mountpoint)).split('\n').filter(Boolean),
    ['10.log', '11.log', '12.log', '23.log'],
    'an hour with only later parts of a line is not listed',
  );
  await t.rejects(shOk(`cat ${DIR}/${dayName}/13.log`, mountpoint), /No such file/, 'and has no file');
  for (const [file, content] of expected) {
    const path = `${DIR}/${file}`;
    const served = await shOk(`cat ${path}`, mountpoint);
    t.equal(served, content, `${file}: the joined lines, in order`);
    const size = Number((await shOk(`stat -c %s ${path}`, mountpoint)).trim());
    const counted = Number((await shOk(`wc -c < ${path}`, mountpoint)).trim());
    t.equal(size, Buffer.byteLength(content), `${file}: st_size is the bytes`);
    t.equal(counted, size, `${file}: wc -c counts what stat says`);
  }
  const ten = expected.get(`${dayName}/10.log`) ?? '';
  t.ok(ten.includes(`${A.join('')}\n`), 'the long line is whole, in hour 10');
  t.equal(
    (await shOk(`grep -c 'gamma0 ' ${DIR}/${dayName}/10.log`, mountpoint)).trim(),
    '1',
    'grep finds the text of the last part on the first part line',
  );
  t.equal(
    (await shOk(`grep -F 'one;[bqlogfs: part 2 of 4 missing]three;' ${DIR}/${dayName}/10.log`, mountpoint)).trim(),
    'one;[bqlogfs: part 2 of 4 missing]three;[bqlogfs: part 4 of 4 missing]',
    'missing parts are marked where they belong',
  );
  t.match(ten, /^\[bqlogfs: part 1 of 2 missing\]tail of e$/m, 'a missing first part too');
  t.match(ten, /^ERROR first half, second half$/m, 'parts from stdout and stderr');
  t.match(ten, /^\[\{"msg":"first"\},\{"msg":"second"\}\]$/m, 'a structured payload: its parts as a JSON array');
  t.equal(
    await shOk(`cat ${DIR}/${dayName}/11.log`, mountpoint),
    'in eleven\n',
    'hour 11 holds none of the parts of the line that begins in hour 10',
  );
  t.equal(
    await shOk(`cat ${DIR}/${dayName}/12.log`, mountpoint),
    'g starts, g ends\n',
    'a line in hour 12 with its second part in hour 13',
  );
  t.equal(
    await shOk(`cat ${DIR}/${nextDayName}/00.log`, mountpoint),
    '[bqlogfs: part 1 of 2 missing]h after midnight\n',
    'parts across the end of a UTC day are not joined, and both sides show it',
  );

  for (const pattern of ['first half, second', 'gamma0 ', 'part 2 of 4 missing']) {
    const plain = await shOk(`grep -hF '${pattern}' ${DIR}/${dayName}/*.log || true`, mountpoint);
    const searched = await runCli(
      [
        'grep',
        ...serverArgs(emulator, PROJECT, DATASET),
        '--cache-dir',
        t.testdirName,
        '--from',
        `${dayName}T00`,
        '--to',
        `${nextDayName}T00`,
        '-F',
        pattern,
      ],
      { forbidFuse: true },
    );
    const expectedLines = plain
      .split('\n')
      .filter(Boolean)
      .map((line) => `${DIR}:${line}\n`)
      .join('');
    t.ok(expectedLines.length > 0, `plain grep finds "${pattern}" in the joined lines`);
    t.equal(searched.stdout, expectedLines, `bqlogfs grep -F "${pattern}" matches the joined line, as plain grep does`);
    const window = ['--from', `${dayName}T00`, '--to', `${nextDayName}T00`];
    const counted = await runCli(
      ['grep', ...serverArgs(emulator, PROJECT, DATASET), '--cache-dir', t.testdirName, ...window, '-c', '-F', pattern],
      { forbidFuse: true },
    );
    t.equal(counted.stdout, `${DIR}:${expectedLines.split('\n').length - 1}\n`, `bqlogfs grep -c -F "${pattern}"`);
  }

  const json = (await mountTemp(t, [...serverArgs(emulator, PROJECT, DATASET), '--format', 'json'])).daemon;
  const entries = (await shOk(`cat ${DIR}/${dayName}/10.log`, json.mountpoint))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.same(
    entries.map((entry) => [entry.insertId, entry.stream, entry.severity]),
    [
      ['p-1', 'stdout', 'INFO'],
      ['b-1', 'stderr', 'ERROR'],
      ['c-0', 'stdout', 'INFO'],
      ['d-0', 'stdout', 'INFO'],
      ['e-1', 'stderr', 'ERROR'],
      ['f-0', 'stdout', 'INFO'],
      ['a-0', 'stdout', 'INFO'],
    ],
    '--format json: one entry per joined line, with the insertId, stream and severity of its first part',
  );
  t.equal(entries[6]?.textPayload, `${A.join('')}\n`, '--format json: the whole text payload');
  t.same(entries[5]?.jsonPayload, [{ msg: 'first' }, { msg: 'second' }], '--format json: the parts of a JSON payload');
});
