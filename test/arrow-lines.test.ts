// Lines of a text column straight from an Arrow record batch: the same bytes as the lines made from
// the rows the REST API gives (each value without one trailing newline, then a newline), and a row
// that is not what the spec pins fails the read, naming the row.
import { Int64, makeData, makeVector, TimestampMicrosecond, Utf8, vectorFromArray } from 'apache-arrow';
import t from 'tap';
import { appendLines, ArrowLines } from '../src/bigquery/arrow-lines.js';
import { BatchBuffer } from '../src/bigquery/arrow-rows.js';
import { QueryFailure } from '../src/bigquery/failures.js';
import { linesOfRows, type LineSpec } from '../src/bigquery/line-spec.js';
import type { RawRow } from '../src/bigquery/log-warehouse.js';
import { arrowMessages } from './support/arrow-messages.js';

const HOUR_START = 1_772_960_400_000_000;
const HOUR_END = HOUR_START + 3_600_000_000;

/** Texts whose lines are tricky: empty, newlines at the end, inside and alone, multi-byte, long. */
const TRICKY = ['', '\n', '\n\n', 'a', 'a\n', 'a\n\n', 'a\nb', 'naïve ☃ 😀', 'x'.repeat(300), '\r', '\t', '\\x41'];

/** What a file of these texts as lines holds, computed without the code under test. */
function expectedLines(texts: string[]): Buffer {
  return Buffer.from(texts.map((text) => (text.endsWith('\n') ? text : `${text}\n`)).join(''));
}

function randomTexts(count: number, seed: number): string[] {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % n;
  };
  return Array.from({ length: count }, () => TRICKY[next(TRICKY.length)]! + 'y'.repeat(next(3) === 0 ? next(50) : 0));
}

interface Columns {
  part: bigint[];
  namespace: string[];
  pod: string[];
  container: (string | null)[];
  timestamp: bigint[];
  text: (string | null)[];
}

function columnsOf(texts: (string | null)[]): Columns {
  return {
    part: texts.map(() => 1n),
    namespace: texts.map(() => 'shop'),
    pod: texts.map(() => 'web-7d9f-abcde'),
    container: texts.map(() => 'app'),
    timestamp: texts.map((_, n) => BigInt(HOUR_START + n * 1000)),
    text: texts,
  };
}

const SPEC: LineSpec = {
  textColumn: 5,
  strings: [
    { column: 1, value: 'shop' },
    { column: 2, value: 'web-7d9f-abcde' },
    { column: 3, value: 'app' },
  ],
  integers: [{ column: 0, value: 1 }],
  time: { column: 4, startMicros: HOUR_START, endMicros: HOUR_END },
};

/** The schema and one record batch of the columns, put together as the Storage Read API path reads them. */
function message(columns: Columns): Uint8Array {
  const { schema, batch } = arrowMessages({
    part: vectorFromArray(columns.part, new Int64()),
    namespace: vectorFromArray(columns.namespace, new Utf8()),
    pod: vectorFromArray(columns.pod, new Utf8()),
    container: vectorFromArray(columns.container, new Utf8()),
    timestamp: makeVector(
      makeData({
        type: new TimestampMicrosecond('UTC'),
        length: columns.timestamp.length,
        data: new BigInt64Array(columns.timestamp),
      }),
    ),
    text: vectorFromArray(columns.text, new Utf8()),
  });
  return new BatchBuffer().join(schema, batch);
}

function rowsOf(columns: Columns): RawRow[] {
  return columns.text.map((text, n) => [
    String(columns.part[n]),
    columns.namespace[n]!,
    columns.pod[n]!,
    columns.container[n] ?? null,
    String(columns.timestamp[n]),
    text,
  ]);
}

function linesOfMessage(columns: Columns, limit = columns.text.length): Buffer {
  // Each piece's bytes are valid until the next is made: copied as they come.
  return Buffer.concat(
    Array.from(new ArrowLines(SPEC).chunks(message(columns), limit, 1000), (c) => Buffer.from(c.lines)),
  );
}

t.test('appendLines writes each range of values as the lines a file of them holds', async (t) => {
  const texts = randomTexts(500, 7);
  const values = Buffer.from(texts.join(''));
  const offsets = new Int32Array(texts.length + 1);
  texts.forEach((text, n) => (offsets[n + 1] = offsets[n]! + Buffer.byteLength(text)));
  for (const [from, to] of [
    [0, 500],
    [0, 1],
    [13, 14],
    [17, 250],
    [499, 500],
    [120, 120],
  ] as const) {
    const out = Buffer.alloc(values.length + texts.length + 10, 0xee);
    const end = appendLines(values, offsets, from, to, out, 3);
    t.same(out.subarray(3, end), expectedLines(texts.slice(from, to)), `rows ${from} to ${to}`);
    t.equal(out[0], 0xee, 'nothing written before the place given');
  }
});

t.test('a record batch gives the lines its rows give over REST, each batch up to the limit', async (t) => {
  const texts = [...TRICKY, ...randomTexts(3000, 11)];
  const columns = columnsOf(texts);
  t.same(linesOfMessage(columns), expectedLines(texts));
  t.same(linesOfRows(rowsOf(columns), 0, SPEC), expectedLines(texts), 'REST rows give the same lines');
  t.same(linesOfMessage(columns, 5), expectedLines(texts.slice(0, 5)), 'only the rows asked for');
  const chunks = [...new ArrowLines(SPEC).chunks(message(columns), 5, 0)];
  t.same(
    chunks.map((chunk) => chunk.rows),
    [5],
  );
});

t.test('a row that is not what the spec pins fails the read, naming its row in the result', async (t) => {
  const texts = randomTexts(40, 3);
  const cases: [string, (columns: Columns) => void][] = [
    ['another pod, as long', (columns) => (columns.pod[17] = 'web-7d9f-abcdf')],
    ['another pod, longer', (columns) => (columns.pod[17] = 'web-7d9f-abcdef')],
    ['another container', (columns) => (columns.container[17] = 'api')],
    ['no container', (columns) => (columns.container[17] = null)],
    ['an index row', (columns) => (columns.part[17] = 0n)],
    ['a time after the hour', (columns) => (columns.timestamp[17] = BigInt(HOUR_END))],
    ['a time before the hour', (columns) => (columns.timestamp[17] = BigInt(HOUR_START - 1))],
    ['no text', (columns) => (columns.text[17] = null)],
  ];
  for (const [name, change] of cases) {
    const columns = columnsOf(texts);
    change(columns);
    for (const [how, read] of [
      ['', () => linesOfMessage(columns)],
      [', over REST', () => linesOfRows(rowsOf(columns), 1000, SPEC)],
    ] as const) {
      const thrown = (() => {
        try {
          read();
        } catch (error) {
          return error;
        }
      })();
      t.ok(thrown instanceof QueryFailure, `${name}${how}: a query failure`);
      t.match(thrown, { reason: 'resultChanged', message: /^row 1017 / }, `${name}${how}`);
    }
    t.same(linesOfMessage(columns, 17), expectedLines(texts.slice(0, 17)), `${name}: the rows before it are fine`);
  }
});

t.test('a batch of several MiB is handed over in pieces of at most 1 MiB, or one longer line', async (t) => {
  const texts = [...Array.from({ length: 2500 }, (_, n) => `${n} ${'z'.repeat(900)}`), 'L'.repeat(1_500_000), 'end'];
  const chunks = Array.from(new ArrowLines(SPEC).chunks(message(columnsOf(texts)), texts.length, 0), (chunk) => ({
    lines: Buffer.from(chunk.lines),
    rows: chunk.rows,
  }));
  t.same(Buffer.concat(chunks.map((chunk) => chunk.lines)), expectedLines(texts));
  t.equal(
    chunks.reduce((sum, chunk) => sum + chunk.rows, 0),
    texts.length,
  );
  t.ok(chunks.length >= 4, `${chunks.length} pieces`);
  for (const chunk of chunks) {
    t.ok(
      chunk.lines.length <= 1 << 20 || chunk.rows === 1,
      `a piece of ${chunk.rows} lines, ${chunk.lines.length} bytes`,
    );
  }
});
