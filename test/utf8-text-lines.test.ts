// Text payloads that come as their UTF-8 bytes (Utf8Text, the Storage Read API path for plain text
// lines) give the same bytes as the same payloads as strings (the REST path): through the Arrow
// reader, the line buffer, the line formatter for every output option, and the hour writer, live
// hour and entries without an insert id included.
import { Buffer } from 'node:buffer';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int64, Utf8, vectorFromArray } from 'apache-arrow';
import t from 'tap';
import { BatchBuffer, rowSlicesOfBatch } from '../src/bigquery/arrow-rows.js';
import type { RawRow, TextRow } from '../src/bigquery/log-warehouse.js';
import { Utf8Text } from '../src/bigquery/utf8-text.js';
import { TimeZoneModel } from '../src/model/time-model.js';
import { planDayFetch } from '../src/store/day-fetch-plan.js';
import { emptyDayState } from '../src/store/day-state.js';
import { DiskCache } from '../src/store/disk-cache.js';
import { lineBodyFormatter, type LineBody, type TextPodRow } from '../src/store/entry-format.js';
import { HourWriter } from '../src/store/hour-writer.js';
import { LineBuffer } from '../src/store/line-buffer.js';
import { arrowMessages } from './support/arrow-messages.js';

/** The values as Utf8Text over one buffer, back to back, as an Arrow UTF-8 column holds them. */
function asBytes(values: string[]): Utf8Text[] {
  const encoded = values.map((value) => Buffer.from(value));
  const bytes = Buffer.concat([Buffer.from('lead'), ...encoded, Buffer.from('tail')]);
  let at = 4;
  return encoded.map((value) => new Utf8Text(bytes, at, (at += value.byteLength)));
}

const payloads = [
  'plain',
  '',
  'naïve ☃ 😀 日本',
  'ends with a newline\n',
  '\n',
  'two\nlines\n\n',
  'é'.repeat(200),
  '😀'.repeat(70) + '\n',
  'x'.repeat(5_000),
];

t.test('Utf8Text gives back its string, and copies its bytes, short and long', async (t) => {
  for (const [n, text] of asBytes(payloads).entries()) {
    t.equal(text.toString(), payloads[n]);
    t.equal(text.byteLength, Buffer.byteLength(payloads[n]!));
    const target = Buffer.alloc(text.byteLength + 2, 0xff);
    t.equal(text.copyTo(target, 1), text.byteLength);
    t.ok(target.subarray(1, -1).equals(Buffer.from(payloads[n]!)), `copied: ${n}`);
    t.equal(target[0], 0xff, 'nothing before');
    t.equal(target.at(-1), 0xff, 'nothing after');
  }
});

t.test('the Arrow reader gives the bytes column as Utf8Text, equal to the strings, and nothing else', async (t) => {
  const text = [...payloads, null, 'shop', 'shop'];
  const columns = {
    text: vectorFromArray(text, new Utf8()),
    other: vectorFromArray(
      text.map((value) => value && `other ${value}`),
      new Utf8(),
    ),
    int64: vectorFromArray(
      text.map((_, n) => BigInt(n)),
      new Int64(),
    ),
  };
  const { schema, batch } = arrowMessages(columns);
  const message = new BatchBuffer().join(schema, batch);
  const strings = [...rowSlicesOfBatch(message, 4)].flat();
  for (const bytesColumn of [0, 2]) {
    const rows = [...rowSlicesOfBatch(message, 4, bytesColumn)].flat();
    t.equal(rows.length, text.length);
    rows.forEach((row, n) => {
      const value = row[bytesColumn];
      if (bytesColumn === 2) t.type(value, 'string', 'an int64 column as the bytes column: strings');
      else if (text[n] === null) t.equal(value, null, `row ${n}: null`);
      else t.ok(value instanceof Utf8Text, `row ${n}: bytes`);
      t.same(
        row.map((cell) => (cell instanceof Utf8Text ? cell.toString() : cell)),
        strings[n],
        `column ${bytesColumn}, row ${n}: the same values`,
      );
      t.ok(
        row.every((cell, column) => column === bytesColumn || typeof cell === 'string' || cell === null),
        'other columns as strings',
      );
    });
  }
});

async function throughBuffer(bodies: LineBody[]): Promise<Buffer> {
  const lines = new LineBuffer();
  const writes: Buffer[] = [];
  const sink = async (bytes: Buffer) => void writes.push(Buffer.from(bytes));
  for (const body of bodies) await lines.add(body, sink);
  await lines.flush(sink);
  return Buffer.concat(writes);
}

t.test('the line buffer writes bytes as it writes the strings, across its 1 MiB boundary', async (t) => {
  const MiB = 1 << 20;
  const texts: string[] = [];
  for (let n = 0; n < 9_000; n++)
    texts.push(`${String(n).padStart(5, '0')} ${'ü'.repeat(n % 150)}${n % 11 ? '' : '😀'}`);
  // A line that ends the buffer exactly, one longer than the buffer, one that fills it, empty ones.
  const used = Buffer.byteLength(texts.join('\n')) + 1;
  texts.push('a'.repeat(MiB - (used % MiB) - 1), '', 'b'.repeat(MiB + 3), 'c'.repeat(MiB - 1), '', 'd');
  const expected = Buffer.from(texts.map((text) => `${text}\n`).join(''));
  t.ok((await throughBuffer(texts)).equals(expected), 'strings');
  t.ok((await throughBuffer(asBytes(texts))).equals(expected), 'bytes: the same');
  const mixed = asBytes(texts).map((bytes, n) => (n % 3 ? bytes : texts[n]!));
  t.ok((await throughBuffer(mixed)).equals(expected), 'both, mixed: the same');
});

t.test('a line body from bytes is the line from strings, for every output option', async (t) => {
  const stamp = '1772964000123456';
  const stringRows: TextPodRow[] = payloads.map((payload, n) => [stamp, `id-${n}`, 'stdout', payload, null]);
  stringRows.push(Object.assign([stamp, 'id-pod', 'stdout', 'from a pod\nof a workload\n', null], { pod: 'web-1' }));
  stringRows.push([stamp, 'id-json', 'stdout', null, '{"b":1,"a":null}'], [stamp, 'id-none', 'stdout', null, null]);
  const bytes = asBytes(stringRows.map((row) => (row[3] as string | null) ?? ''));
  const byteRows: TextPodRow[] = stringRows.map((row, n) => {
    const copy = [...row];
    if (row[3] !== null) copy[3] = bytes[n]!;
    return row.pod === undefined ? copy : Object.assign(copy, { pod: row.pod });
  });
  for (const timestamps of [false, true]) {
    for (const format of ['text', 'json'] as const) {
      for (const sortKeys of [false, true]) {
        const body = lineBodyFormatter({ timestamps, format }, sortKeys);
        const full = (row: TextPodRow) =>
          format === 'json' ? Object.assign([...row, 'INFO', '{"app":"web"}'], { pod: row.pod }) : row;
        const fromStrings = await throughBuffer(stringRows.map((row) => body(full(row))));
        const fromBytes = await throughBuffer(byteRows.map((row) => body(full(row))));
        t.equal(
          fromBytes.toString(),
          fromStrings.toString(),
          `${format}, timestamps ${timestamps}, sorted ${sortKeys}`,
        );
        t.ok(fromBytes.equals(fromStrings));
      }
    }
  }
  const plain = lineBodyFormatter({ timestamps: false, format: 'text' });
  t.ok(plain(byteRows[0]!) instanceof Utf8Text, 'plain text lines keep the bytes');
  t.equal(String(plain(byteRows[3]!)), 'ends with a newline');
});

const DAY = '2026-03-08';
const HOUR_START_MICROS = 1_772_964_000_000_000n;
const ref = { namespace: 'bytes', pod: 'web-0', container: 'app' };

/** Entry rows over two hours: multibyte, empty and newline-ended payloads, repeats, no insert ids. */
function entryRows(): RawRow[] {
  const rows: RawRow[] = [];
  for (let n = 0; n < 3_000; n++) {
    const micros = HOUR_START_MICROS + BigInt(n) * 2_000_000n;
    const insertId = n % 5 === 0 ? null : `id-${n}`;
    const row: RawRow = [String(micros), insertId, n % 7 ? 'stdout' : 'stderr', payloads[n % payloads.length]!, null];
    rows.push(row);
    // A second delivery of the same entry, and an entry without an insert id twice.
    if (n % 97 === 0) rows.push([...row]);
  }
  return rows;
}

async function writeHours(rows: TextRow[], nowMs: number, again?: TextRow[]): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bqlogfs-utf8-text-'));
  const cache = await DiskCache.open(dir, 'test', 1e12);
  const zone = new TimeZoneModel('UTC');
  try {
    const state = emptyDayState(nowMs);
    const lineOf = lineBodyFormatter({ timestamps: false, format: 'text' });
    for (const page of again ? [rows, again] : [rows]) {
      const request = { knownThroughMs: 0, firstHour: 10, sealAfterMs: 0, nowMs, refresh: page === again };
      const writer = new HourWriter(cache, zone, lineOf, {
        ref,
        day: DAY,
        state,
        plan: planDayFetch(zone, DAY, request),
      });
      for (let first = 0; first < page.length; first += 256) await writer.writePage(page.slice(first, first + 256));
      await writer.finish();
    }
    const files: Buffer[] = [];
    for (const hour of [10, 11]) {
      const file = state.files.get(hour);
      const bytes = Buffer.alloc(file?.size ?? 0);
      if (file) {
        const reader = await cache.openForReading({ ref, day: DAY, hour });
        await reader.read(bytes, 0, bytes.length, 0);
        await reader.close();
      }
      files.push(bytes);
    }
    return files;
  } finally {
    await cache.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function withBytes(rows: RawRow[]): TextRow[] {
  const bytes = asBytes(rows.map((row) => row[3] ?? ''));
  return rows.map((row, n) => [row[0]!, row[1]!, row[2]!, bytes[n]!, null]);
}

t.test('the hour writer writes the same files from bytes as from strings, final and live', async (t) => {
  const rows = entryRows();
  const afterDay = Date.parse(`${DAY}T00:00:00Z`) + 2 * 86_400_000;
  const inHour11 = Date.parse(`${DAY}T11:30:00Z`);
  for (const [name, nowMs] of [
    ['final hours', afterDay],
    ['a live hour', inHour11],
  ] as const) {
    const fromStrings = await writeHours(rows, nowMs);
    const fromBytes = await writeHours(withBytes(rows), nowMs);
    t.ok(fromStrings[0]!.length > 0 && fromStrings[1]!.length > 0, `${name}: both hours written`);
    t.ok(fromBytes[0]!.equals(fromStrings[0]!) && fromBytes[1]!.equals(fromStrings[1]!), `${name}: the same bytes`);
  }
  // A refetch of the live hour: what its file holds is not appended again, by identity.
  const late: RawRow[] = [[String(HOUR_START_MICROS + 3_600_000_001n), null, 'stdout', 'late ünïcødé', null]];
  const twiceStrings = await writeHours(rows, inHour11, [...rows, ...late]);
  const twiceBytes = await writeHours(withBytes(rows), inHour11, withBytes([...rows, ...late]));
  t.ok(twiceBytes[1]!.equals(twiceStrings[1]!), 'refetched live hour: the same bytes');
  t.ok(twiceStrings[1]!.toString().endsWith('late ünïcødé\n'), 'the late entry appended once');
});
