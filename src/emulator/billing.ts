// On-demand billing rules: which leaf columns a path bills, which partitions
// and shards survive constant filters, and how processed bytes turn into
// billed bytes (per referenced table at least 10 MiB, total rounded up to a
// whole MiB).
import type { BoundParam } from './query-params.js';
import { findField, leaves, type BqField } from './schema.js';
import type { Constraint, Operand } from './sql/constraints.js';
import { NULL_PARTITION } from './table-data.js';
import { MICROS_PER_DAY, parseDateDays, parseTimestampMicros } from './timestamps.js';

export const MIB = 1_048_576n;
export const MIN_BYTES_PER_TABLE = 10n * MIB;

/**
 * Leaf column paths billed by an identifier path: a path to a leaf bills that
 * leaf, a path to a RECORD bills all leaves below it. A leading qualifier
 * (table alias or name) is ignored. Paths that do not resolve bill nothing.
 */
export function resolveLeaves(schema: BqField[], parts: string[], qualifiers: Set<string>): string[] {
  const candidates = [parts];
  if (parts.length > 1 && qualifiers.has(parts[0]!.toLowerCase())) candidates.push(parts.slice(1));
  const out: string[] = [];
  for (const path of candidates) {
    let fields: BqField[] | undefined = schema;
    const names: string[] = [];
    for (let k = 0; k < path.length; k++) {
      const f = findField(fields, path[k]!);
      if (!f) break;
      names.push(f.name);
      if (f.type !== 'RECORD') {
        out.push(names.join('.'));
        break;
      }
      if (k === path.length - 1) out.push(...leaves(f.fields ?? [], names.join('.')).map((l) => l.path));
      fields = f.fields;
    }
  }
  return out;
}

export function allLeafPaths(schema: BqField[]): string[] {
  return leaves(schema).map((l) => l.path);
}

function operandConstant(
  op: Operand,
  params: Map<string, BoundParam>,
): { type: string; value: string | bigint | number } | undefined {
  switch (op.kind) {
    case 'param': {
      const p = params.get(op.name.toLowerCase());
      if (!p || p.constant === null) return undefined;
      return { type: p.type, value: p.constant };
    }
    case 'string':
      return { type: 'STRING', value: op.value };
    case 'number':
      return { type: 'NUMBER', value: op.value };
    case 'typed':
      return { type: `LITERAL_${op.type}`, value: op.value };
  }
}

/** A constant as microseconds on the partitioning column's time line, if it can be one. */
function asMicros(c: { type: string; value: string | bigint | number }, columnIsDate: boolean): bigint | undefined {
  try {
    if (c.type === 'TIMESTAMP' || c.type === 'DATETIME') return c.value as bigint;
    if (c.type === 'DATE') return BigInt(c.value as number) * MICROS_PER_DAY;
    if (c.type === 'LITERAL_DATE' || (columnIsDate && (c.type === 'STRING' || c.type === 'LITERAL_DATETIME'))) {
      return BigInt(parseDateDays(String(c.value).slice(0, 10))) * MICROS_PER_DAY;
    }
    if (c.type === 'STRING' || c.type.startsWith('LITERAL_')) return parseTimestampMicros(String(c.value));
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Whether a partition day can hold rows satisfying all constraints on the
 * partitioning column. Constraints whose constant cannot be evaluated are
 * ignored (they never prune).
 */
export function partitionSurvives(
  day: number,
  constraints: Constraint[],
  columnIsDate: boolean,
  params: Map<string, BoundParam>,
): boolean {
  if (constraints.length === 0) return true;
  if (day === NULL_PARTITION) return false;
  let lo = BigInt(day) * MICROS_PER_DAY;
  let hi = columnIsDate ? lo : lo + MICROS_PER_DAY - 1n;
  const inSets: bigint[][] = [];
  for (const c of constraints) {
    if (c.op === 'in') {
      const values = c.operands
        .map((o) => operandConstant(o, params))
        .map((v) => (v ? asMicros(v, columnIsDate) : undefined));
      if (values.every((v) => v !== undefined)) inSets.push(values as bigint[]);
      continue;
    }
    const constant = operandConstant(c.operand, params);
    const v = constant ? asMicros(constant, columnIsDate) : undefined;
    if (v === undefined) continue;
    if (c.op === '>=' && v > lo) lo = v;
    if (c.op === '>' && v + 1n > lo) lo = v + 1n;
    if (c.op === '<=' && v < hi) hi = v;
    if (c.op === '<' && v - 1n < hi) hi = v - 1n;
    if (c.op === '=') {
      if (v > lo) lo = v;
      if (v < hi) hi = v;
    }
  }
  if (lo > hi) return false;
  return inSets.every((set) => set.some((v) => v >= lo && v <= hi));
}

/** Whether a wildcard shard's suffix satisfies the _TABLE_SUFFIX constraints. */
export function suffixSurvives(suffix: string, constraints: Constraint[], params: Map<string, BoundParam>): boolean {
  const str = (o: Operand): string | undefined => {
    const c = operandConstant(o, params);
    return c && (c.type === 'STRING' || c.type === 'NUMBER') ? String(c.value) : undefined;
  };
  for (const c of constraints) {
    if (c.op === 'in') {
      const values = c.operands.map(str);
      if (values.every((v) => v !== undefined) && !values.includes(suffix)) return false;
      continue;
    }
    const v = str(c.operand);
    if (v === undefined) continue;
    const ok =
      c.op === '='
        ? suffix === v
        : c.op === '<'
          ? suffix < v
          : c.op === '<='
            ? suffix <= v
            : c.op === '>'
              ? suffix > v
              : suffix >= v;
    if (!ok) return false;
  }
  return true;
}

/** Billed bytes for the processed bytes of each referenced table. */
export function billedBytes(perTable: bigint[]): bigint {
  let total = 0n;
  for (const bytes of perTable) {
    // A table the query reads nothing from (all partitions pruned, empty) is not billed.
    if (bytes > 0n) total += bytes > MIN_BYTES_PER_TABLE ? bytes : MIN_BYTES_PER_TABLE;
  }
  return ((total + MIB - 1n) / MIB) * MIB;
}
