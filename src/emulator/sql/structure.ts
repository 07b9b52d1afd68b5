// Finds the structural pieces of a query that the emulator needs before
// translating it: table references in FROM positions (with their aliases and
// the WHERE clause of the SELECT that reads them), SELECT * stars, CTE names,
// and the items of the outermost select list.
//
// This is a token scanner with one state record per parenthesis level, not a
// full parser. It understands: FROM a, b JOIN c ON ..., subqueries in FROM,
// UNION/INTERSECT/EXCEPT, WITH clauses. It does not understand correlated
// array paths in FROM (`FROM t, t.arr`), which are then treated as tables.
import { CLAUSE_END, NOT_AN_ALIAS } from './keywords.js';
import { isOp, isWord, upper, type Token } from './tokenizer.js';

export interface TableSite {
  /** Token range of the table path. */
  start: number;
  end: number;
  /** Path parts, backtick identifiers split on dots. */
  parts: string[];
  alias?: string;
  /** Index after the alias tokens (equals `end` when there is no alias). */
  aliasEnd: number;
  /** Token range of the WHERE condition of the SELECT reading this table. */
  where?: [number, number];
  /** Identifies the SELECT whose FROM clause holds this reference. */
  selectId: number;
}

export interface StarSite {
  index: number;
  selectId: number;
  qualifier?: string;
}

export interface QueryStructure {
  sites: TableSite[];
  stars: StarSite[];
}

interface Level {
  selectId: number;
  inFrom: boolean;
  expectTable: boolean;
  pending: TableSite[];
  whereStart?: number;
}

/** Reads `a.b.c` / `a`.`b.c` starting at i; returns the parts and the end index. */
export function readPath(tokens: Token[], i: number): { parts: string[]; end: number } {
  const parts: string[] = [];
  let j = i;
  for (;;) {
    const t = tokens[j];
    if (t === undefined || (t.kind !== 'ident' && t.kind !== 'quoted')) break;
    parts.push(...(t.kind === 'quoted' ? t.value.split('.') : [t.value]));
    j++;
    const dot = tokens[j];
    const after = tokens[j + 1];
    if (isOp(dot, '.') && after !== undefined && (after.kind === 'ident' || after.kind === 'quoted')) j++;
    else break;
  }
  return { parts, end: j };
}

function readAlias(tokens: Token[], j: number): { alias?: string; end: number } {
  const t = tokens[j];
  if (isWord(t, 'AS')) {
    const a = tokens[j + 1];
    if (a !== undefined && (a.kind === 'ident' || a.kind === 'quoted')) return { alias: a.value, end: j + 2 };
    return { end: j };
  }
  if (t?.kind === 'quoted') return { alias: t.value, end: j + 1 };
  if (t?.kind === 'ident' && !NOT_AN_ALIAS.has(t.text.toUpperCase())) return { alias: t.value, end: j + 1 };
  return { end: j };
}

export function scanStructure(tokens: Token[]): QueryStructure {
  const sites: TableSite[] = [];
  const stars: StarSite[] = [];
  let nextSelectId = 0;
  const newLevel = (): Level => ({ selectId: -1, inFrom: false, expectTable: false, pending: [] });
  const stack: Level[] = [newLevel()];

  const closeClause = (lvl: Level, at: number): void => {
    if (lvl.whereStart !== undefined) {
      for (const site of lvl.pending) site.where = [lvl.whereStart, at];
    }
    lvl.whereStart = undefined;
    lvl.pending = [];
    lvl.inFrom = false;
    lvl.expectTable = false;
  };

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const lvl = stack[stack.length - 1]!;
    if (t.kind === 'op') {
      if (t.text === '(') {
        lvl.expectTable = false;
        stack.push(newLevel());
      } else if (t.text === ')') {
        closeClause(lvl, i);
        if (stack.length > 1) stack.pop();
      } else if (t.text === ',' && lvl.inFrom && lvl.whereStart === undefined) {
        lvl.expectTable = true;
      } else if (t.text === '*' && lvl.selectId >= 0 && !lvl.inFrom) {
        const prev = tokens[i - 1];
        const prevWord = upper(prev);
        if (isOp(prev, ',') || ['SELECT', 'DISTINCT', 'ALL', 'STRUCT'].includes(prevWord)) {
          stars.push({ index: i, selectId: lvl.selectId });
        } else if (isOp(prev, '.')) {
          const q = tokens[i - 2];
          if (q?.kind === 'ident' || q?.kind === 'quoted') {
            stars.push({ index: i, selectId: lvl.selectId, qualifier: q.value });
          }
        }
      }
      continue;
    }
    const word = upper(t);
    if (word === 'SELECT') {
      closeClause(lvl, i);
      lvl.selectId = nextSelectId++;
      continue;
    }
    if (lvl.selectId >= 0 && t.kind === 'ident') {
      if (word === 'FROM' && !isWord(tokens[i - 1], 'DISTINCT')) {
        lvl.inFrom = true;
        lvl.expectTable = true;
        continue;
      }
      if (word === 'JOIN' && lvl.inFrom) {
        lvl.expectTable = true;
        continue;
      }
      if (word === 'WHERE' && lvl.inFrom) {
        lvl.inFrom = false;
        lvl.expectTable = false;
        lvl.whereStart = i + 1;
        continue;
      }
      if (CLAUSE_END.has(word) && !(word === 'EXCEPT' && isOp(tokens[i - 1], '*'))) {
        closeClause(lvl, i);
        continue;
      }
    }
    if (lvl.expectTable && (t.kind === 'ident' || t.kind === 'quoted')) {
      lvl.expectTable = false;
      if (word === 'UNNEST') continue;
      const { parts, end } = readPath(tokens, i);
      const { alias, end: aliasEnd } = readAlias(tokens, end);
      const site: TableSite = { start: i, end, parts, aliasEnd, selectId: lvl.selectId };
      if (alias !== undefined) site.alias = alias;
      sites.push(site);
      lvl.pending.push(site);
      i = aliasEnd - 1;
    }
  }
  for (let k = stack.length - 1; k >= 0; k--) closeClause(stack[k]!, tokens.length);
  return { sites, stars };
}

/** Whether tokens[i] is the name of a WITH clause's table: `WITH name AS (`, or `, name AS (` after one. */
export function definesCte(tokens: Token[], i: number): boolean {
  const t = tokens[i];
  if (t === undefined || (t.kind !== 'ident' && t.kind !== 'quoted')) return false;
  if (!isWord(tokens[i + 1], 'AS') || !isOp(tokens[i + 2], '(')) return false;
  const prev = tokens[i - 1];
  return isWord(prev, 'WITH') || isWord(prev, 'RECURSIVE') || isOp(prev, ',');
}

/** Names defined by WITH clauses (lower-cased). */
export function cteNames(tokens: Token[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i + 2 < tokens.length; i++) if (definesCte(tokens, i)) names.add(tokens[i]!.value.toLowerCase());
  return names;
}

/**
 * Splits a condition into its top-level AND conjuncts; a conjunct that is
 * entirely parenthesised is split again.
 */
export function splitConjuncts(
  tokens: Token[],
  brackets: Map<number, number>,
  start: number,
  end: number,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let from = start;
  let betweenPending = 0;
  for (let i = start; i < end; i++) {
    const t = tokens[i]!;
    if (isOp(t, '(') || isOp(t, '[')) {
      i = brackets.get(i) ?? i;
      continue;
    }
    const w = upper(t);
    if (w === 'BETWEEN') betweenPending++;
    else if (w === 'AND') {
      if (betweenPending > 0) betweenPending--;
      else {
        out.push([from, i]);
        from = i + 1;
      }
    }
  }
  out.push([from, end]);
  const result: Array<[number, number]> = [];
  for (const [s, e] of out) {
    if (e - s >= 2 && isOp(tokens[s], '(') && brackets.get(s) === e - 1) {
      result.push(...splitConjuncts(tokens, brackets, s + 1, e - 1));
    } else if (e > s) result.push([s, e]);
  }
  return result;
}

export interface SelectItem {
  start: number;
  end: number;
}

/** Items of the outermost query's first select list (empty if it has none). */
export function topLevelSelectItems(tokens: Token[], brackets: Map<number, number>): SelectItem[] {
  let i = 0;
  // Skip a leading WITH clause: its CTE bodies are parenthesised.
  while (i < tokens.length && !isWord(tokens[i], 'SELECT')) {
    if (isOp(tokens[i], '(')) i = brackets.get(i) ?? i;
    else if (i === 0 && !isWord(tokens[i], 'WITH')) return [];
    i++;
  }
  if (i >= tokens.length) return [];
  i++;
  while (['DISTINCT', 'ALL'].includes(upper(tokens[i]))) i++;
  if (isWord(tokens[i], 'AS')) return []; // SELECT AS STRUCT / AS VALUE
  const items: SelectItem[] = [];
  let from = i;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isOp(t, '(') || isOp(t, '[')) {
      i = brackets.get(i) ?? i;
      continue;
    }
    if (isOp(t, ',')) {
      items.push({ start: from, end: i });
      from = i + 1;
      continue;
    }
    const w = upper(t);
    if (w === 'FROM' || (CLAUSE_END.has(w) && !(w === 'EXCEPT' && isOp(tokens[i - 1], '*'))) || isOp(t, ';')) break;
  }
  items.push({ start: from, end: i });
  return items.filter((it) => it.end > it.start);
}
