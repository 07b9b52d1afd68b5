// Lines on their way into an hour file: each written as its text and a newline, in order, whatever
// the buffer's boundaries; and the text of a line is the line the output options give, without
// its newline.
import { Buffer } from 'node:buffer';
import t from 'tap';
import { lineBodyFormatter, lineFormatter, type PodRow } from '../src/store/entry-format.js';
import { LineBuffer } from '../src/store/line-buffer.js';

/** A sink that keeps a copy of every write (the buffer is reused once a write resolves). */
function collector(): { sink: (bytes: Buffer) => Promise<void>; writes: Buffer[] } {
  const writes: Buffer[] = [];
  return { writes, sink: async (bytes) => void writes.push(Buffer.from(bytes)) };
}

async function through(texts: string[]): Promise<Buffer[]> {
  const lines = new LineBuffer();
  const { sink, writes } = collector();
  for (const text of texts) await lines.add(text, sink);
  await lines.flush(sink);
  return writes;
}

t.test('each text is written with a newline, in order', async (t) => {
  const texts = ['first', '', 'naïve ☃ 😀', 'last'];
  const writes = await through(texts);
  t.equal(Buffer.concat(writes).toString(), texts.map((text) => `${text}\n`).join(''));
  t.equal(writes.length, 1, 'gathered into one write');
});

t.test('across the 1 MiB buffer, and a line longer than it', async (t) => {
  const texts: string[] = [];
  for (let n = 0; n < 12_000; n++) texts.push(`${String(n).padStart(6, '0')} ${'é'.repeat(n % 90)}`);
  texts.splice(6_000, 0, 'x'.repeat(1_500_000), '😀'.repeat(300_000));
  const writes = await through(texts);
  t.ok(writes.length > 2, `${writes.length} writes`);
  t.ok(
    Buffer.concat(writes).equals(Buffer.from(texts.map((text) => `${text}\n`).join(''))),
    'the same bytes as the lines joined',
  );
});

t.test('discard drops what was gathered', async (t) => {
  const lines = new LineBuffer();
  const { sink, writes } = collector();
  await lines.add('dropped', sink);
  lines.discard();
  await lines.add('kept', sink);
  await lines.flush(sink);
  t.equal(Buffer.concat(writes).toString(), 'kept\n');
});

t.test('a line body is the formatted line without its newline, for every output option', async (t) => {
  const stamp = '1772964000123456';
  const rows: PodRow[] = [
    [stamp, 'id-1', 'stdout', 'plain text', null],
    [stamp, 'id-2', 'stderr', 'ends with a newline\n', null],
    [stamp, 'id-3', 'stdout', 'two\nlines\n\n', null],
    [stamp, 'id-4', 'stdout', '', null],
    [stamp, 'id-5', 'stdout', null, '{"b":1,"a":null,"c":{"z":2,"y":null}}'],
    [stamp, 'id-6', 'stdout', null, null],
    Object.assign([stamp, 'id-7', 'stdout', 'from a pod\nof a workload', null], { pod: 'web-1' }),
  ];
  const full = rows.map((row) => [...row, 'INFO', '{"app":"web"}'] as PodRow);
  for (const timestamps of [false, true]) {
    for (const format of ['text', 'json'] as const) {
      for (const sortKeys of [false, true]) {
        const options = { timestamps, format };
        const line = lineFormatter(options, sortKeys);
        const body = lineBodyFormatter(options, sortKeys);
        for (const row of format === 'json' ? full : rows) {
          const expected = line(row);
          t.equal(`${body(row)}\n`, expected, `${format}, timestamps ${timestamps}, sorted ${sortKeys}: ${row[1]}`);
        }
      }
    }
  }
  t.equal(lineBodyFormatter({ timestamps: false, format: 'text' })(rows[1]!), 'ends with a newline');
});
