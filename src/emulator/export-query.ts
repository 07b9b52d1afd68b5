// A query's rows written straight to a file by DuckDB (COPY … TO), with no API between: the
// physical limit that a fetch of the same rows through REST pages or the Storage Read API can
// approach. For benchmarks; BigQuery has no such call, and nothing here is billed.
import type { Catalog } from './catalog.js';
import type { Database } from './database.js';
import { planQuery, type QueryRequest } from './planner.js';

/** Each row's values joined by a unit separator, one row per line, nothing quoted. */
export async function exportQuery(db: Database, catalog: Catalog, request: QueryRequest, path: string): Promise<void> {
  const plan = planQuery(catalog, request);
  const target = `'${path.replaceAll("'", "''")}'`;
  await db.withConnection(async (c) => {
    await c.run(
      `COPY (${plan.sql}) TO ${target} (FORMAT CSV, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f')`,
      plan.values,
      plan.types,
    );
  });
}
