// Recognises constant filters on one column inside WHERE conjuncts, e.g.
//   timestamp >= @start, @end > t.timestamp, _TABLE_SUFFIX BETWEEN '1' AND '2',
//   _TABLE_SUFFIX IN ('a', @b), timestamp = TIMESTAMP '2026-01-01'.
// Used for partition and shard pruning; anything not recognised is ignored,
// which only means less pruning.
import { readPath } from './structure.js';
import { isOp, isWord, upper, type Token } from './tokenizer.js';

export type Operand =
  | { kind: 'param'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'typed'; type: 'TIMESTAMP' | 'DATE' | 'DATETIME'; value: string };

export type CompareOp = '=' | '<' | '<=' | '>' | '>=';

export type Constraint = { op: CompareOp; operand: Operand } | { op: 'in'; operands: Operand[] };

const FLIP: Record<CompareOp, CompareOp> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function readOperand(tokens: Token[], i: number): { operand: Operand; end: number } | undefined {
  const t = tokens[i];
  if (t === undefined) return undefined;
  if (t.kind === 'param') return { operand: { kind: 'param', name: t.value }, end: i + 1 };
  if (t.kind === 'string') return { operand: { kind: 'string', value: t.value }, end: i + 1 };
  if (t.kind === 'number') return { operand: { kind: 'number', value: t.value }, end: i + 1 };
  const w = upper(t);
  if (w === 'TIMESTAMP' || w === 'DATE' || w === 'DATETIME') {
    const next = tokens[i + 1];
    if (next?.kind === 'string') return { operand: { kind: 'typed', type: w, value: next.value }, end: i + 2 };
    // TIMESTAMP(@p) / TIMESTAMP('...') with a single constant argument.
    if (isOp(next, '(') && isOp(tokens[i + 3], ')')) {
      const inner = readOperand(tokens, i + 2);
      if (inner && inner.end === i + 3) {
        if (inner.operand.kind === 'string')
          return { operand: { kind: 'typed', type: w, value: inner.operand.value }, end: i + 4 };
        if (inner.operand.kind === 'param') return { operand: inner.operand, end: i + 4 };
      }
    }
  }
  return undefined;
}

/** True if tokens[s..e) is exactly a reference to the column (optionally qualified). */
function isColumnRef(tokens: Token[], s: number, e: number, column: string, qualifiers: Set<string>): boolean {
  const { parts, end } = readPath(tokens, s);
  if (end !== e) return false;
  const last = parts[parts.length - 1];
  if (last === undefined || last.toLowerCase() !== column.toLowerCase()) return false;
  if (parts.length === 1) return true;
  return parts.length === 2 && qualifiers.has(parts[0]!.toLowerCase());
}

function pathEnd(tokens: Token[], s: number): number {
  return readPath(tokens, s).end;
}

/** Constraints that one conjunct (tokens[s..e)) puts on `column`. */
export function constraintsOn(
  tokens: Token[],
  range: [number, number],
  column: string,
  qualifiers: Set<string>,
): Constraint[] {
  const [s, e] = range;
  const colEnd = pathEnd(tokens, s);
  if (colEnd > s && isColumnRef(tokens, s, colEnd, column, qualifiers)) {
    const opTok = tokens[colEnd];
    if (opTok?.kind === 'op' && opTok.text in FLIP) {
      const rhs = readOperand(tokens, colEnd + 1);
      if (rhs && rhs.end === e) return [{ op: opTok.text as CompareOp, operand: rhs.operand }];
      return [];
    }
    if (isWord(opTok, 'BETWEEN')) {
      const lo = readOperand(tokens, colEnd + 1);
      if (!lo || !isWord(tokens[lo.end], 'AND')) return [];
      const hi = readOperand(tokens, lo.end + 1);
      if (!hi || hi.end !== e) return [];
      return [
        { op: '>=', operand: lo.operand },
        { op: '<=', operand: hi.operand },
      ];
    }
    if (isWord(opTok, 'IN') && isOp(tokens[colEnd + 1], '(') && isOp(tokens[e - 1], ')')) {
      const operands: Operand[] = [];
      let i = colEnd + 2;
      while (i < e - 1) {
        const v = readOperand(tokens, i);
        if (!v) return [];
        operands.push(v.operand);
        i = v.end;
        if (isOp(tokens[i], ',')) i++;
        else if (i !== e - 1) return [];
      }
      return [{ op: 'in', operands }];
    }
    return [];
  }
  // Constant on the left: @x <= column
  const lhs = readOperand(tokens, s);
  const opTok = lhs ? tokens[lhs.end] : undefined;
  if (lhs && opTok?.kind === 'op' && opTok.text in FLIP && isColumnRef(tokens, lhs.end + 1, e, column, qualifiers)) {
    return [{ op: FLIP[opTok.text as CompareOp], operand: lhs.operand }];
  }
  return [];
}
