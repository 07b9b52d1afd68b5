// REST pages of a kept result asked for several at once (src/bigquery/pages-ahead.ts): whatever
// order the answers come in, and whatever each answer holds, the rows are handed on once each, in
// order, with no more pages asked for than allowed.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { RawRow } from '../src/bigquery/log-warehouse.js';
import { readPagesAhead, type PageAt } from '../src/bigquery/pages-ahead.js';

/** Row i of the result is [String(i)]. */
function rowsOf(from: number, to: number): RawRow[] {
  return Array.from({ length: to - from }, (_, i) => [String(from + i)]);
}

/** Pages of that result, each answered after `delayMs(from)` and cut to `cut(from, to)` rows. */
function server(options: {
  delayMs?: (from: number) => number;
  cut?: (from: number, to: number) => number;
  stillRunning?: (call: number) => boolean;
  fail?: (from: number, call: number) => Error | undefined;
}) {
  const asked: [number, number][] = [];
  let outstanding = 0;
  let mostOutstanding = 0;
  const pageAt: PageAt = async (from, to) => {
    const call = asked.push([from, to]);
    outstanding++;
    mostOutstanding = Math.max(mostOutstanding, outstanding);
    try {
      await sleep(options.delayMs?.(from) ?? 0);
      const failure = options.fail?.(from, call);
      if (failure) throw failure;
      if (options.stillRunning?.(call)) return undefined;
      return rowsOf(from, from + Math.min(to - from, options.cut?.(from, to) ?? to - from));
    } finally {
      outstanding--;
    }
  };
  return { pageAt, asked, mostOutstanding: () => mostOutstanding };
}

async function readAll(start: number, end: number, pageRows: number, inFlight: number, pageAt: PageAt) {
  const delivered: RawRow[][] = [];
  await readPagesAhead(start, end, pageRows, inFlight, pageAt, async (rows) => {
    delivered.push(rows);
    // A consumer slower than the server: the pages ahead are asked for meanwhile.
    await sleep(1);
  });
  return delivered;
}

t.test('pages answered in any order are handed on in order, each row once', async (t) => {
  // Earlier pages answer later than the ones after them.
  const { pageAt, asked, mostOutstanding } = server({ delayMs: (from) => 40 - (from % 40) });
  const delivered = await readAll(5, 105, 10, 4, pageAt);
  t.same(delivered.flat(), rowsOf(5, 105));
  t.same(
    delivered.map((rows) => rows.length),
    Array(10).fill(10),
  );
  t.equal(asked.length, 10, 'each page asked for once');
  t.equal(mostOutstanding(), 4, 'four pages in flight at most, and four at once');
});

t.test('one page in flight asks for each page after the one before has come', async (t) => {
  const { pageAt, mostOutstanding } = server({});
  t.same((await readAll(0, 25, 10, 1, pageAt)).flat(), rowsOf(0, 25));
  t.equal(mostOutstanding(), 1);
});

t.test('a page cut short is followed by the rest of its range', async (t) => {
  // Every page starting at a multiple of 10 holds 3 rows only.
  const { pageAt, asked } = server({ cut: (from) => (from % 10 === 0 ? 3 : Infinity) });
  const delivered = await readAll(0, 40, 10, 3, pageAt);
  t.same(delivered.flat(), rowsOf(0, 40));
  t.same(
    asked.filter(([from]) => from % 10 !== 0),
    [3, 13, 23, 33].map((from) => [from, from + 7]),
    'the rest of each cut page asked for by its index',
  );
});

t.test('a page of a job still running is asked for again', async (t) => {
  const { pageAt, asked } = server({ stillRunning: (call) => call <= 2 });
  t.same((await readAll(0, 30, 10, 3, pageAt)).flat(), rowsOf(0, 30));
  t.equal(asked.length, 5, 'the two pages that were not ready, again');
});

t.test('a failed page fails the read at its turn; failures of pages after it are not left unhandled', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => void process.off('unhandledRejection', onUnhandled));
  // Page 2 fails after a while; pages 3 and 4 fail at once, before page 2's turn comes.
  const { pageAt } = server({
    delayMs: (from) => (from === 10 ? 30 : 0),
    fail: (from) => (from >= 10 ? new Error(`page at ${from} failed`) : undefined),
  });
  const delivered: RawRow[][] = [];
  await t.rejects(
    readPagesAhead(0, 50, 10, 4, pageAt, async (rows) => void delivered.push(rows)),
    { message: 'page at 10 failed' },
  );
  t.same(delivered.flat(), rowsOf(0, 10), 'the pages before it were handed on');
  await sleep(50);
  t.same(unhandled, []);
});

t.test("the consumer's failure ends the read", async (t) => {
  const { pageAt } = server({});
  let deliveries = 0;
  await t.rejects(
    readPagesAhead(0, 100, 10, 4, pageAt, async () => {
      if (++deliveries === 2) throw new Error('reader gone');
    }),
    { message: 'reader gone' },
  );
  t.equal(deliveries, 2);
});

t.test('an empty range asks for nothing', async (t) => {
  const { pageAt, asked } = server({});
  t.same(await readAll(7, 7, 10, 4, pageAt), []);
  t.same(asked, []);
});
