// Collects the identifier paths a statement mentions (for billing).
//
// Limits of this token-level approach: every path is matched against every
// referenced table, so an alias or CTE column that happens to share a name
// with a real column bills that column too; `SELECT *` over a subquery or CTE
// bills only what the inner query names, but `SELECT *` directly over a table
// bills all of its columns even when an outer query uses only a few.
import { RESERVED } from './keywords.js';
import { readPath, type TableSite } from './structure.js';
import { isOp, isWord, type Token } from './tokenizer.js';

export function collectColumnPaths(tokens: Token[], sites: TableSite[]): string[][] {
  const skip = new Set<number>();
  for (const s of sites) for (let i = s.start; i < s.aliasEnd; i++) skip.add(i);
  const paths: string[][] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (skip.has(i) || (t.kind !== 'ident' && t.kind !== 'quoted')) continue;
    if (isOp(tokens[i - 1], '.')) continue;
    if (t.kind === 'ident') {
      const w = t.text.toUpperCase();
      if (isOp(tokens[i + 1], '(') || RESERVED.has(w) || tokens[i + 1]?.kind === 'string') continue;
    }
    if (isWord(tokens[i - 1], 'AS')) continue;
    const { parts, end } = readPath(tokens, i);
    paths.push(parts);
    i = end - 1;
  }
  return paths;
}
