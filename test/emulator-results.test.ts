// The local server's kept query results: bounded in memory, the oldest dropped first, never the newest.
import t from 'tap';
import { Database } from '../src/emulator/database.js';
import type { Plan } from '../src/emulator/planner.js';
import { ResultStore } from '../src/emulator/results.js';

function plan(rows: number): Plan {
  return {
    sql: `SELECT range AS n, repeat('x', 100) AS padding FROM range(${rows})`,
    values: {},
    types: {},
    bytesProcessed: 0n,
    bytesBilled: 0n,
    referencedTables: [],
  };
}

t.test('results beyond the memory bound are dropped, oldest first, never the newest', async (t) => {
  const db = await Database.open(':memory:');
  const tight = new ResultStore(db, { maxBytes: 1 });
  await tight.materialize('first', plan(200_000));
  t.ok(tight.has('first'), 'the newest result is kept, however big');
  const second = await tight.materialize('second', plan(200_000));
  t.notOk(tight.has('first'), 'the older one is dropped');
  t.ok(tight.has('second'));
  t.equal(second.totalRows, 200_000n);

  const roomy = new ResultStore(db);
  await roomy.materialize('a', plan(200_000));
  await roomy.materialize('b', plan(200_000));
  t.ok(roomy.has('a') && roomy.has('b'), 'within the default bound, both are kept');
});

t.test('a result is read back in its order, also one with a column named rowid', async (t) => {
  const db = await Database.open(':memory:');
  const store = new ResultStore(db);
  const ordered = (rowid: string) => ({
    ...plan(0),
    sql: `SELECT 20_000 - range AS ${rowid}, 'v' || (20_000 - range) AS v FROM range(20_000) ORDER BY 1`,
  });
  for (const column of ['n', 'rowid', 'ROWID']) {
    const set = await store.materialize(`ordered-${column}`, ordered(column));
    t.same(set.names, [column, 'v'], `${column}: the result's own columns only`);
    const page = await store.readPage(set, 15_000n, 3, 'int64');
    t.same(
      page.rows.map((row) => row.f.map((cell) => cell.v)),
      [
        ['15001', 'v15001'],
        ['15002', 'v15002'],
        ['15003', 'v15003'],
      ],
      `${column}: rows 15000 to 15002, in order`,
    );
  }
});
