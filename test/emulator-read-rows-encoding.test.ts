// The local server's ReadRows responses, encoded by hand around their record batch: each decodes,
// with the service's own protobuf definition, to the fields given and to an Arrow record batch that
// apache-arrow's own writer encodes to the very same bytes; and a response's bytes stay intact
// while the next one is encoded, as gRPC may still be sending them.
import { DuckDBInstance } from '@duckdb/node-api';
import { RecordBatchReader, RecordBatchStreamWriter } from 'apache-arrow';
import t from 'tap';
import { servedColumn } from '../src/emulator/storage/arrow-schema.js';
import { BatchArena } from '../src/emulator/storage/batch-arena.js';
import { bigQueryReadService, type ReadRowsResponseMessage } from '../src/emulator/storage/protocol.js';
import { ReadRowsResponses } from '../src/emulator/storage/read-rows-response.js';
import { BatchEncoder, MAX_BATCH_BYTES } from '../src/emulator/storage/record-batches.js';

const ROWS = 5_000;

/** Columns of every layout the encoder knows, with NULLs, inline and long strings, and rows over a batch's size. */
const TABLE_SQL = `
  CREATE TABLE t AS SELECT
    i::BIGINT AS n,
    CASE WHEN i % 7 = 0 THEN NULL ELSE repeat(chr((97 + i % 26)::INTEGER), (i % 40)::INTEGER) END AS text,
    CASE WHEN i = 4321 THEN repeat('é', ${MAX_BATCH_BYTES}) ELSE 'ns-' || (i % 3) END AS label,
    i % 2 = 0 AS flag,
    i / 8.0 AS ratio,
    DATE '2026-12-01' + (i % 30)::INTEGER AS day,
    TIMESTAMP '2026-12-01 00:00:00' + to_microseconds((i * 1234567)::BIGINT) AS at,
    CAST(i AS DECIMAL(38, 9)) / 3 AS amount,
    encode('b' || i) AS bytes,
    {'k': 'key-' || i, 'v': CASE WHEN i % 5 = 0 THEN NULL ELSE i END} AS pair,
    CASE WHEN i % 11 = 0 THEN NULL ELSE [i, i + 1, i + 2][1:(i % 4)] END AS list
  FROM range(${ROWS}) r(i)`;

const serialize = bigQueryReadService().ReadRows!.responseSerialize;
const deserialize = bigQueryReadService().ReadRows!.responseDeserialize;

t.test('responses decode to their fields and to the bytes apache-arrow writes', async (t) => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(TABLE_SQL);
  const probe = await connection.runAndReadAll('SELECT * FROM t LIMIT 0');
  const columns = probe.columnNames().map((name, i) => servedColumn(name, probe.columnTypes()[i]!));
  const encoder = new BatchEncoder(columns);
  const arena = new BatchArena();
  const responses = new ReadRowsResponses();
  const result = await connection.stream(`SELECT ${columns.map((c) => c.selectSql).join(', ')} FROM t ORDER BY n`);

  let rows = 0;
  let batches = 0;
  let previous: { view: Buffer; copy: Buffer } | undefined;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    for (const batch of encoder.encode(chunk, 0, arena)) {
      const fields = {
        rowCount: batch.rows,
        stats: { progress: { atResponseStart: rows / ROWS, atResponseEnd: (rows + batch.rows) / ROWS } },
        ...(batches === 0 ? { arrowSchema: { serializedSchema: encoder.schemaMessage } } : {}),
      };
      const encoded = responses.encode(batch, fields);
      if (previous) t.ok(previous.view.equals(previous.copy), 'the response before is intact');

      const bytes = serialize(encoded);
      const message = deserialize(bytes) as ReadRowsResponseMessage;
      const recordBatch = Buffer.from(message.arrowRecordBatch.serializedRecordBatch);
      t.equal(recordBatch.byteLength, batch.byteLength);
      t.equal(Number(message.rowCount), batch.rows);
      t.equal(Number(message.arrowRecordBatch.rowCount), batch.rows);
      t.same(message.stats, fields.stats);
      t.equal(message.arrowSchema !== undefined && message.arrowSchema !== null, batches === 0);

      const stream = Buffer.concat([encoder.schemaMessage, recordBatch]);
      const decoded = RecordBatchReader.from(stream).readAll();
      t.equal(decoded.length, 1);
      t.equal(decoded[0]!.numRows, batch.rows);
      const writer = new RecordBatchStreamWriter();
      writer.write(decoded[0]!);
      t.ok(Buffer.from(writer.toUint8Array(true)).equals(stream), 'apache-arrow writes the same message');

      previous = { view: encoded.bytes, copy: Buffer.from(encoded.bytes) };
      rows += batch.rows;
      batches++;
    }
  }
  t.equal(rows, ROWS);
  t.ok(batches > 3, 'the long row has a batch of its own');
  connection.closeSync();
  instance.closeSync();
});
