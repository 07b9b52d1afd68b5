// Rows of an Arrow record batch as the REST API gives them: every value a string or null, whatever
// the batch repeats from row to row (values read again from the row before are shared strings).
import { Int32, Int64, makeData, makeVector, TimestampMicrosecond, Utf8, vectorFromArray } from 'apache-arrow';
import t from 'tap';
import { BatchBuffer, rowSlicesOfBatch } from '../src/bigquery/arrow-rows.js';
import type { RawRow } from '../src/bigquery/log-warehouse.js';
import { arrowMessages } from './support/arrow-messages.js';

const text: (string | null)[] = [
  'shop',
  'shop',
  'shoq',
  null,
  'shop',
  '',
  '',
  'naïve ☃ 😀',
  'naïve ☃ 😀',
  'x'.repeat(100),
  'x'.repeat(100),
  'x'.repeat(99) + 'y',
];
const int64: (bigint | null)[] = [
  1n,
  1n,
  0n,
  -1n,
  null,
  2n ** 32n,
  2n ** 32n + 1n,
  2n ** 53n - 1n,
  -(2n ** 53n),
  2n ** 53n + 1n,
  -(2n ** 63n),
  2n ** 63n - 1n,
];
const micros: bigint[] = int64.map((_, n) => 1_772_960_400_000_000n + BigInt(n % 3));
const int32: (number | null)[] = text.map((_, n) => (n === 3 ? null : n - 5));

function stringOf(value: bigint | number | string | null): string | null {
  return value === null ? null : String(value);
}

/** The schema message, then the record batch message, as a read session and a response give them. */
function messages(): { schema: Uint8Array; batch: Uint8Array } {
  const columns = {
    text: vectorFromArray(text, new Utf8()),
    int64: vectorFromArray(int64, new Int64()),
    micros: makeVector(
      makeData({ type: new TimestampMicrosecond('UTC'), length: micros.length, data: new BigInt64Array(micros) }),
    ),
    int32: vectorFromArray(int32, new Int32()),
  };
  return arrowMessages(columns);
}

const expected: RawRow[] = text.map((value, n) => [
  stringOf(value),
  stringOf(int64[n]!),
  String(micros[n]),
  stringOf(int32[n]!),
]);

t.test('every value as the REST API writes it, in slices of at most the given rows', async (t) => {
  const { schema, batch } = messages();
  const buffer = new BatchBuffer();
  for (const sliceRows of [1, 5, 256]) {
    const slices = [...rowSlicesOfBatch(buffer.join(schema, batch), sliceRows)];
    t.ok(
      slices.every((slice) => slice.length <= sliceRows),
      `slices of at most ${sliceRows}`,
    );
    t.same(slices.flat(), expected, `slices of ${sliceRows}: the same rows`);
  }
});

t.test('a reused buffer gives the rows of the batch joined last', async (t) => {
  const { schema, batch } = messages();
  const buffer = new BatchBuffer();
  const first = [...rowSlicesOfBatch(buffer.join(schema, batch), 256)].flat();
  const again = [...rowSlicesOfBatch(buffer.join(schema, batch), 256)].flat();
  t.same(first, expected);
  t.same(again, expected);
});
