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
