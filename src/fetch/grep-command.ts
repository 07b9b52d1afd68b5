// `bqlogfs grep`: one query over the whole window, filtered in BigQuery, which bills the window's
// partitions once and sends back only the entries that match; the lines are then printed as grep
// prints matches across files, or written one file per pod as `fetch` writes them.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { createBigQueryClient } from '../bigquery/client.js';
import { requireCredentials } from '../bigquery/credentials.js';
import { dryRunCost } from '../bigquery/dry-run.js';
import { QueryFailure } from '../bigquery/failures.js';
import { logQuery } from '../bigquery/log-queries.js';
import type { SearchScope } from '../bigquery/search-query.js';
import type { GrepPattern } from '../model/grep-pattern.js';
import { MountStats } from '../model/stats.js';
import { onStopSignal } from '../model/stop-signals.js';
import type { TimeRange } from '../model/time-model.js';
import { lineFormatter } from '../store/entry-format.js';
import { openLogStore, type LogStoreOptions } from '../store/log-store.js';
import { passCostGate } from './cost-gate.js';
import { outputFileName } from './fetch-command.js';
import { GrepFiles } from './grep-files.js';
import { GrepOutput, type GrepPrint } from './grep-output.js';
import { OutputDirectory } from './output-files.js';

export interface GrepOptions {
  pattern: GrepPattern;
  scope: SearchScope;
  podPattern?: RegExp;
  /** Whole local hours of `store.timeZone`. */
  window: TimeRange;
  print: GrepPrint;
  /** For `files`: where the files go. */
  outDir?: string;
  /** A dry run estimating more asks first (on a terminal) or fails (elsewhere). */
  confirmAboveBytes: number;
  store: LogStoreOptions;
}

/** Where `--out` writes: the directory made, and its unfinished files removed if the search is interrupted. */
async function grepFiles(outDir: string): Promise<{ files: GrepFiles; forgetSignals: () => void }> {
  await mkdir(outDir, { recursive: true });
  const directory = new OutputDirectory(outDir);
  const forgetSignals = onStopSignal((signal) => {
    directory.removeUnfinishedSync();
    process.stderr.write(`bqlogfs: grep interrupted by ${signal}\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
  return { files: new GrepFiles(directory, outputFileName), forgetSignals };
}

/** A reader that stopped reading (`bqlogfs grep … | head`) ends the search quietly, as SIGPIPE ends grep. */
function quitOnClosedOutput(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(141);
  throw error;
}

/** Runs the search; resolves to the number of matching lines (grep's exit status follows from it). */
export async function runGrep(options: GrepOptions, log: Logger): Promise<number> {
  process.stdout.on('error', quitOnClosedOutput);
  try {
    await requireCredentials(options.store);
    const store = await openLogStore({ name: 'grep', ...options.store }, log, new MountStats(), () => Date.now());
    const fullEntries = options.print === 'json' || (options.print === 'files' && options.store.format === 'json');
    const query = logQuery(store.source, {
      kind: 'search',
      scope: options.scope,
      range: options.window,
      pattern: options.pattern,
      columns: { fullEntries, everyContainer: options.print === 'count' },
    });
    const estimate = await dryRunCost(
      createBigQueryClient(options.store),
      query.statement,
      store.source.tables.length,
      store.source.location,
    );
    await passCostGate(estimate.billed, {
      confirmAboveBytes: options.confirmAboveBytes,
      input: process.stdin,
      output: process.stderr,
    });
    const sortJsonKeys = store.source.schema?.sortJsonKeys ?? false;
    const out = options.print === 'files' ? await grepFiles(resolve(options.outDir ?? '.')) : undefined;
    const files = out?.files;
    const output = new GrepOutput({
      pattern: options.pattern,
      ...(options.podPattern && { podPattern: options.podPattern }),
      print: options.print,
      fileLine: lineFormatter(
        { timestamps: options.store.timestamps ?? false, format: options.store.format ?? 'text' },
        sortJsonKeys,
        (micros) => store.zone.rfc3339(micros),
      ),
      sortJsonKeys,
      write: (text) => process.stdout.write(text),
      ...(files && { keep: (name, ref, lines) => files.keep(name, ref, lines) }),
    });
    try {
      await store.warehouse.runQuery(query, {
        page: async (rows) => {
          output.add(rows);
          await files?.spill();
        },
      });
      store.cache.closeNow();
      await files?.finish((path, lines) => process.stderr.write(`wrote ${path} (${lines} lines)\n`));
    } catch (error) {
      await files?.discard().catch(() => undefined);
      throw error;
    } finally {
      out?.forgetSignals();
    }
    if (options.print === 'count') output.printCounts();
    return [...output.counts.values()].reduce((sum, count) => sum + count.lines, 0);
  } catch (error) {
    if (error instanceof QueryFailure) throw new Error(`${error.message} (${error.hint})`, { cause: error });
    throw error;
  }
}
