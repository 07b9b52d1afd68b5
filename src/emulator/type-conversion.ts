// Builds DuckDB expressions that convert a column from one BigQuery field
// shape to another. Used to (a) read wildcard shards whose schemas differ from
// the newest shard's schema, (b) rewrite a table after a schema patch, and
// (c) turn rows staged as JSON into the stored column types.
import { duckScalarType, duckType, findField, quoteIdent, type BqField } from './schema.js';

let lambdaCounter = 0;
function lambdaVar(): string {
  lambdaCounter = (lambdaCounter + 1) % 1_000_000;
  return `__x${lambdaCounter}`;
}

function sameShape(a: BqField, b: BqField): boolean {
  return duckType(a) === duckType(b);
}

/**
 * Expression of type `to` reading `expr` (of shape `from`, or absent).
 * Missing columns/fields read as NULL (or an empty array for REPEATED).
 */
export function reconcileExpr(expr: string, from: BqField | undefined, to: BqField): string {
  if (!from) return to.mode === 'REPEATED' ? `CAST([] AS ${duckType(to)})` : `CAST(NULL AS ${duckType(to)})`;
  if (sameShape(from, to)) return expr;
  const fromRepeated = from.mode === 'REPEATED';
  const toRepeated = to.mode === 'REPEATED';
  if (fromRepeated && toRepeated) {
    const v = lambdaVar();
    return `list_transform(${expr}, lambda ${v}: ${reconcileScalar(v, from, to)})`;
  }
  if (fromRepeated !== toRepeated) return reconcileExpr('', undefined, to);
  return reconcileScalar(expr, from, to);
}

function reconcileScalar(expr: string, from: BqField, to: BqField): string {
  if (to.type === 'RECORD') {
    if (from.type !== 'RECORD') return `CAST(NULL AS ${duckScalarType(to)})`;
    const entries = (to.fields ?? []).map((tf) => {
      const ff = findField(from.fields, tf.name);
      const inner = ff ? `(${expr}).${quoteIdent(ff.name)}` : '';
      return `${quoteIdent(tf.name)} := ${reconcileExpr(inner, ff, tf)}`;
    });
    return `CASE WHEN (${expr}) IS NULL THEN NULL ELSE struct_pack(${entries.join(', ')}) END`;
  }
  return `TRY_CAST(${expr} AS ${duckScalarType(to)})`;
}

/** Type used while rows travel as JSON into DuckDB (see tableData.ts). */
function stagingScalarType(field: BqField): string {
  switch (field.type) {
    case 'BYTES':
    case 'NUMERIC':
    case 'BIGNUMERIC':
    case 'JSON':
    case 'GEOGRAPHY':
      return '"VARCHAR"';
    case 'RECORD':
      return `{${(field.fields ?? []).map((f) => `${JSON.stringify(f.name)}:${stagingStructure(f)}`).join(',')}}`;
    default:
      return JSON.stringify(duckScalarType(field));
  }
}

/** from_json() structure description for one field. */
export function stagingStructure(field: BqField): string {
  const scalar = stagingScalarType(field);
  return field.mode === 'REPEATED' ? `[${scalar}]` : scalar;
}

function needsStagingConversion(field: BqField): boolean {
  if (field.type === 'RECORD') return (field.fields ?? []).some(needsStagingConversion);
  return stagingScalarType(field) === '"VARCHAR"' && field.type !== 'GEOGRAPHY';
}

/** Converts a staged value (see stagingStructure) into the stored type. */
export function fromStagingExpr(expr: string, field: BqField): string {
  if (!needsStagingConversion(field)) return expr;
  if (field.mode === 'REPEATED') {
    const v = lambdaVar();
    return `list_transform(${expr}, lambda ${v}: ${fromStagingScalar(v, field)})`;
  }
  return fromStagingScalar(expr, field);
}

function fromStagingScalar(expr: string, field: BqField): string {
  switch (field.type) {
    case 'BYTES':
      return `from_base64(${expr})`;
    case 'RECORD': {
      const entries = (field.fields ?? []).map(
        (f) => `${quoteIdent(f.name)} := ${fromStagingExpr(`(${expr}).${quoteIdent(f.name)}`, f)}`,
      );
      return `CASE WHEN (${expr}) IS NULL THEN NULL ELSE struct_pack(${entries.join(', ')}) END`;
    }
    default:
      return `CAST(${expr} AS ${duckScalarType(field)})`;
  }
}
