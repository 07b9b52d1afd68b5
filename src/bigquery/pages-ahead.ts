// Rows of a kept result read as REST pages by row index, several pages asked for at once. Each
// jobs.getQueryResults call is a round trip, and the server builds the next page while this one is
// parsed and written; asked for one at a time, the two sides wait for each other. The pages are
// still handed on one at a time and in order, so whoever consumes them sees what a single request
// after another would give.
import type { RawRow } from './log-warehouse.js';

/** Rows [from, to) of the result, or fewer from `from` on; undefined while the job is still running. */
export type PageAt = (from: number, to: number) => Promise<RawRow[] | undefined>;

interface AskedPage {
  from: number;
  to: number;
  rows: Promise<RawRow[] | undefined>;
}

/**
 * Hands on rows [start, end) in order, in pages of at most `pageRows`, with at most `inFlight` pages
 * asked for and not yet handed on. A page that came back shorter than asked (a server may cut a page
 * by its bytes) is followed by the rest of its range before the next page. A failed page fails the
 * read when its turn comes; the pages after it are left to finish on their own.
 */
export async function readPagesAhead(
  start: number,
  end: number,
  pageRows: number,
  inFlight: number,
  pageAt: PageAt,
  deliver: (rows: RawRow[]) => Promise<void>,
): Promise<void> {
  const ask = (from: number, to: number): AskedPage => {
    const rows = pageAt(from, to);
    // Awaited when its turn comes; until then its failure must not count as unhandled.
    rows.catch(() => undefined);
    return { from, to, rows };
  };
  const asked: AskedPage[] = [];
  let nextToAsk = start;
  const askAhead = () => {
    while (asked.length < inFlight && nextToAsk < end) {
      const to = Math.min(nextToAsk + pageRows, end);
      asked.push(ask(nextToAsk, to));
      nextToAsk = to;
    }
  };
  askAhead();
  while (asked.length > 0) {
    const page = asked[0]!;
    const rows = await page.rows;
    if (rows === undefined) {
      asked[0] = ask(page.from, page.to);
      continue;
    }
    const reached = page.from + rows.length;
    if (reached < page.to) asked[0] = ask(reached, page.to);
    else asked.shift();
    askAhead();
    await deliver(rows);
  }
}
