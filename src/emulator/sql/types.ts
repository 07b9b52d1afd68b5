// GoogleSQL type names (in CAST targets) to DuckDB type names.
import { SqlSyntaxError, isOp, upper, type Token } from './tokenizer.js';

const SIMPLE: Record<string, string> = {
  STRING: 'VARCHAR',
  INT64: 'BIGINT',
  INT: 'BIGINT',
  INTEGER: 'BIGINT',
  SMALLINT: 'BIGINT',
  BIGINT: 'BIGINT',
  TINYINT: 'BIGINT',
  BYTEINT: 'BIGINT',
  FLOAT64: 'DOUBLE',
  FLOAT: 'DOUBLE',
  BOOL: 'BOOLEAN',
  BOOLEAN: 'BOOLEAN',
  BYTES: 'BLOB',
  NUMERIC: 'DECIMAL(38,9)',
  DECIMAL: 'DECIMAL(38,9)',
  BIGNUMERIC: 'DECIMAL(38,9)',
  BIGDECIMAL: 'DECIMAL(38,9)',
  TIMESTAMP: 'TIMESTAMP',
  DATETIME: 'TIMESTAMP',
  DATE: 'DATE',
  TIME: 'TIME',
  JSON: 'JSON',
  INTERVAL: 'INTERVAL',
  GEOGRAPHY: 'VARCHAR',
};

/** Parses a type starting at i; returns the DuckDB type and the end index. */
export function translateType(tokens: Token[], i: number): { type: string; end: number } {
  const name = upper(tokens[i]);
  if (name === 'ARRAY') {
    if (!isOp(tokens[i + 1], '<')) throw new SqlSyntaxError('Syntax error: expected < after ARRAY');
    const inner = translateType(tokens, i + 2);
    if (!isOp(tokens[inner.end], '>')) throw new SqlSyntaxError('Syntax error: expected > to close ARRAY<');
    return { type: `${inner.type}[]`, end: inner.end + 1 };
  }
  if (name === 'STRUCT') {
    if (!isOp(tokens[i + 1], '<')) throw new SqlSyntaxError('Syntax error: expected < after STRUCT');
    const fields: string[] = [];
    let j = i + 2;
    for (;;) {
      const fieldName = tokens[j];
      if (fieldName === undefined) throw new SqlSyntaxError('Syntax error: unterminated STRUCT type');
      const inner = translateType(tokens, j + 1);
      fields.push(`"${fieldName.value.replace(/"/g, '""')}" ${inner.type}`);
      j = inner.end;
      if (isOp(tokens[j], ',')) j++;
      else break;
    }
    if (!isOp(tokens[j], '>')) throw new SqlSyntaxError('Syntax error: expected > to close STRUCT<');
    return { type: `STRUCT(${fields.join(', ')})`, end: j + 1 };
  }
  const mapped = SIMPLE[name];
  if (!mapped) throw new SqlSyntaxError(`Type not found: ${tokens[i]?.text ?? '(end of input)'}`);
  let end = i + 1;
  // NUMERIC(p, s) / STRING(n): parameters are accepted and ignored.
  if (isOp(tokens[end], '(')) {
    while (end < tokens.length && !isOp(tokens[end], ')')) end++;
    end++;
  }
  return { type: mapped, end };
}
