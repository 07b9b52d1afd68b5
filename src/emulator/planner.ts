// Turns a GoogleSQL query request into DuckDB SQL plus bound parameters, and
// computes the bytes it processes/bills under on-demand pricing — all before
// anything is executed.
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { allLeafPaths, billedBytes, partitionSurvives, resolveLeaves, suffixSurvives } from './billing.js';
import { duckTableRef, tableKey, type Catalog, type TableMeta } from './catalog.js';
import { BqError } from './errors.js';
import { bindParameters, duckParamName, type BoundParam, type QueryParameter } from './query-params.js';
import { duckType, findField, quoteIdent } from './schema.js';
import { collectColumnPaths } from './sql/column-paths.js';
import { constraintsOn, type Constraint } from './sql/constraints.js';
import {
  cteNames,
  readPath,
  scanStructure,
  splitConjuncts,
  topLevelSelectItems,
  type TableSite,
} from './sql/structure.js';
import { SqlSyntaxError, isOp, isWord, matchBrackets, tokenize, upper, type Token } from './sql/tokenizer.js';
import { translate } from './sql/translate.js';
import { reconcileExpr } from './type-conversion.js';

export interface QueryRequest {
  projectId: string;
  query: string;
  useLegacySql?: boolean;
  defaultDataset?: { projectId?: string; datasetId?: string };
  queryParameters?: QueryParameter[];
  parameterMode?: string;
}

export interface Plan {
  sql: string;
  values: Record<string, DuckDBValue>;
  types: Record<string, DuckDBType>;
  bytesProcessed: bigint;
  bytesBilled: bigint;
  referencedTables: Array<{ projectId: string; datasetId: string; tableId: string }>;
}

interface ResolvedSite {
  site: TableSite;
  /** Billing unit: the table, or the wildcard pattern as a whole. */
  unit: string;
  wildcardPrefix?: string;
  /** All tables matching the reference (before pruning). */
  matching: TableMeta[];
  /** Tables that survive shard pruning. */
  tables: TableMeta[];
  qualifiers: Set<string>;
  where: Array<[number, number]>;
}

const TABLE_SUFFIX = '_TABLE_SUFFIX';

export function planQuery(catalog: Catalog, req: QueryRequest): Plan {
  if (req.useLegacySql === true)
    throw BqError.invalidQuery('Legacy SQL is not supported by the emulator; set useLegacySql to false.');
  let tokens: Token[];
  let brackets: Map<number, number>;
  try {
    tokens = tokenize(req.query ?? '');
    while (isOp(tokens[tokens.length - 1], ';')) tokens.pop();
    brackets = matchBrackets(tokens);
  } catch (err) {
    throw BqError.invalidQuery((err as Error).message);
  }
  const first = tokens.findIndex((t) => !isOp(t, '('));
  if (tokens.length === 0 || !['SELECT', 'WITH'].includes(upper(tokens[first]))) {
    throw BqError.invalidQuery('Syntax error: the emulator only supports SELECT queries');
  }
  const params = bindParameters(req.queryParameters, req.parameterMode);
  const structure = scanStructure(tokens);
  const ctes = cteNames(tokens);
  const resolved = structure.sites
    .filter((s) => !(s.parts.length === 1 && ctes.has(s.parts[0]!.toLowerCase())))
    .map((site) => resolveSite(catalog, req, site, tokens, brackets, params));

  const bytesProcessed = accountBytes(catalog, resolved, tokens, structure.stars, params);

  const tables = new Map<number, { site: TableSite; sql: string }>();
  for (const r of resolved) tables.set(r.site.start, { site: r.site, sql: relationSql(r) });
  let translation;
  try {
    translation = translate({ tokens, brackets, tables, itemAliases: anonymousColumnAliases(tokens, brackets) });
  } catch (err) {
    if (err instanceof SqlSyntaxError) throw BqError.invalidQuery(err.message);
    throw err;
  }
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const name of translation.params) {
    const p = params.get(name);
    if (!p) throw BqError.invalidQuery(`Query parameter '${name}' not found`);
    values[duckParamName(name)] = p.value;
    types[duckParamName(name)] = p.duckType;
  }
  const referencedTables = new Map<string, { projectId: string; datasetId: string; tableId: string }>();
  for (const r of resolved)
    for (const t of r.tables)
      referencedTables.set(tableKey(t.projectId, t.datasetId, t.tableId), {
        projectId: t.projectId,
        datasetId: t.datasetId,
        tableId: t.tableId,
      });
  return {
    sql: translation.sql,
    values,
    types,
    bytesProcessed: bytesProcessed.total,
    bytesBilled: billedBytes(bytesProcessed.perUnit),
    referencedTables: [...referencedTables.values()],
  };
}

function resolveSite(
  catalog: Catalog,
  req: QueryRequest,
  site: TableSite,
  tokens: Token[],
  brackets: Map<number, number>,
  params: Map<string, BoundParam>,
): ResolvedSite {
  const parts = site.parts;
  let projectId: string;
  let datasetId: string;
  const tableId = parts[parts.length - 1]!;
  if (parts.length >= 3) {
    projectId = parts.slice(0, -2).join('.');
    datasetId = parts[parts.length - 2]!;
  } else if (parts.length === 2) {
    projectId = req.defaultDataset?.projectId ?? req.projectId;
    datasetId = parts[0]!;
  } else {
    if (!req.defaultDataset?.datasetId) {
      throw BqError.invalidQuery(`Table "${tableId}" must be qualified with a dataset (e.g. dataset.table).`);
    }
    projectId = req.defaultDataset.projectId ?? req.projectId;
    datasetId = req.defaultDataset.datasetId;
  }
  const qualifiers = new Set([tableId.toLowerCase()]);
  if (site.alias) qualifiers.add(site.alias.toLowerCase());
  const where = site.where ? splitConjuncts(tokens, brackets, site.where[0], site.where[1]) : [];
  if (!tableId.endsWith('*')) {
    const meta = catalog.findTable(projectId, datasetId, tableId);
    if (!meta) {
      catalog.getDataset(projectId, datasetId);
      throw BqError.notFound(`Table ${tableKey(projectId, datasetId, tableId)} was not found in location US`);
    }
    return { site, unit: tableKey(projectId, datasetId, tableId), matching: [meta], tables: [meta], qualifiers, where };
  }
  const prefix = tableId.slice(0, -1);
  catalog.getDataset(projectId, datasetId);
  const matching = catalog.listTables(projectId, datasetId).filter((t) => t.tableId.startsWith(prefix));
  if (matching.length === 0)
    throw BqError.notFound(`Table ${tableKey(projectId, datasetId, tableId)} was not found in location US`);
  const suffixConstraints: Constraint[] = where.flatMap((range) =>
    constraintsOn(tokens, range, TABLE_SUFFIX, qualifiers),
  );
  const tables = matching.filter((t) => suffixSurvives(t.tableId.slice(prefix.length), suffixConstraints, params));
  return {
    site,
    unit: tableKey(projectId, datasetId, tableId),
    wildcardPrefix: prefix,
    matching,
    tables,
    qualifiers,
    where,
  };
}

interface BytesAccount {
  total: bigint;
  perUnit: bigint[];
}

function accountBytes(
  catalog: Catalog,
  resolved: ResolvedSite[],
  tokens: Token[],
  stars: Array<{ selectId: number; qualifier?: string }>,
  params: Map<string, BoundParam>,
): BytesAccount {
  const paths = collectColumnPaths(
    tokens,
    resolved.map((r) => r.site),
  );
  // unit -> duckName -> (table, surviving days, billed leaves)
  const units = new Map<string, Map<string, { meta: TableMeta; days: Set<number>; leaves: Set<string> }>>();
  for (const r of resolved) {
    const starred = stars.some((s) =>
      s.qualifier === undefined ? s.selectId === r.site.selectId : r.qualifiers.has(s.qualifier.toLowerCase()),
    );
    let perTable = units.get(r.unit);
    if (!perTable) units.set(r.unit, (perTable = new Map()));
    for (const meta of r.tables) {
      const field = meta.timePartitioning?.field;
      const fieldType = field ? findField(meta.schema, field)?.type : undefined;
      const constraints = field ? r.where.flatMap((range) => constraintsOn(tokens, range, field, r.qualifiers)) : [];
      const stored = catalog.storedBytesOf(meta);
      let entry = perTable.get(meta.duckName);
      if (!entry) perTable.set(meta.duckName, (entry = { meta, days: new Set(), leaves: new Set() }));
      for (const day of stored.keys()) {
        if (!field || partitionSurvives(day, constraints, fieldType === 'DATE', params)) entry.days.add(day);
      }
      const leafPaths = starred
        ? allLeafPaths(meta.schema)
        : paths.flatMap((p) => resolveLeaves(meta.schema, p, r.qualifiers));
      for (const leaf of leafPaths) entry.leaves.add(leaf);
    }
  }
  let total = 0n;
  const perUnit: bigint[] = [];
  for (const perTable of units.values()) {
    let unitBytes = 0n;
    for (const { meta, days, leaves } of perTable.values()) {
      const stored = catalog.storedBytesOf(meta);
      for (const day of days) {
        const perColumn = stored.get(day);
        if (!perColumn) continue;
        for (const leaf of leaves) unitBytes += perColumn.get(leaf) ?? 0n;
      }
    }
    perUnit.push(unitBytes);
    total += unitBytes;
  }
  return { total, perUnit };
}

/** DuckDB relation for a table reference (a wildcard becomes a UNION ALL of its shards). */
function relationSql(r: ResolvedSite): string {
  if (r.wildcardPrefix === undefined) return duckTableRef(r.tables[0]!);
  // BigQuery reads all shards with the schema of the most recently created match.
  const newest = r.matching.reduce((a, b) => (b.creationTime > a.creationTime ? b : a));
  const suffixCol = quoteIdent(TABLE_SUFFIX);
  if (r.tables.length === 0) {
    const cols = newest.schema.map((f) => `CAST(NULL AS ${duckType(f)}) AS ${quoteIdent(f.name)}`);
    return `(SELECT ${[...cols, `CAST(NULL AS VARCHAR) AS ${suffixCol}`].join(', ')} WHERE false)`;
  }
  const branches = r.tables.map((t) => {
    const cols = newest.schema.map((f) => {
      const own = findField(t.schema, f.name);
      return `${reconcileExpr(own ? quoteIdent(own.name) : '', own, f)} AS ${quoteIdent(f.name)}`;
    });
    const suffix = t.tableId.slice(r.wildcardPrefix!.length).replace(/'/g, "''");
    return `SELECT ${[...cols, `'${suffix}' AS ${suffixCol}`].join(', ')} FROM ${duckTableRef(t)}`;
  });
  return `(${branches.join(' UNION ALL ')})`;
}

/**
 * BigQuery names unnamed result columns f0_, f1_, ...; DuckDB would name them
 * after the expression text. Multi-part paths are aliased to their last part.
 */
function anonymousColumnAliases(tokens: Token[], brackets: Map<number, number>): Map<number, string> {
  const aliases = new Map<number, string>();
  let anonymous = 0;
  for (const item of topLevelSelectItems(tokens, brackets)) {
    const { start, end } = item;
    const last = tokens[end - 1]!;
    const beforeLast = tokens[end - 2];
    if (isOp(last, '*') || (end - start >= 2 && isWord(beforeLast, 'AS'))) continue;
    if (upper(tokens[start]) === '*' || isOp(tokens[start], '*')) continue;
    const path = readPath(tokens, start);
    if (path.end === end && path.parts.length > 0) {
      if (path.parts.length > 1) aliases.set(end, path.parts[path.parts.length - 1]!);
      continue;
    }
    const implicitAlias =
      (last.kind === 'quoted' || (last.kind === 'ident' && !['END', 'NULL', 'TRUE', 'FALSE'].includes(upper(last)))) &&
      beforeLast !== undefined &&
      !isOp(beforeLast, '.') &&
      (isOp(beforeLast, ')') ||
        isOp(beforeLast, ']') ||
        beforeLast.kind === 'ident' ||
        beforeLast.kind === 'quoted' ||
        beforeLast.kind === 'string' ||
        beforeLast.kind === 'number' ||
        beforeLast.kind === 'param');
    if (implicitAlias && !(last.kind === 'ident' && ['AND', 'OR', 'NOT', 'IS'].includes(upper(beforeLast)))) continue;
    // `* EXCEPT (...)` / `* REPLACE (...)` items
    if (tokens.slice(start, end).some((t, k) => isOp(t, '*') && (k === 0 || isOp(tokens[start + k - 1], '.'))))
      continue;
    aliases.set(end, `f${anonymous++}_`);
  }
  return aliases;
}
