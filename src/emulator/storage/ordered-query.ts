// Whether a query's result is ordered: BigQuery keeps a query's ORDER BY order only when its result
// is read through a single stream, so such a result gets exactly one.
import { isWord, tokenize } from '../sql/tokenizer.js';

/** True when the statement has an ORDER BY outside any parentheses (not one of a window or an aggregate). */
export function hasTopLevelOrderBy(query: string): boolean {
  let tokens;
  try {
    tokens = tokenize(query);
  } catch {
    return false;
  }
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === 'op' && (token.text === '(' || token.text === '[')) depth++;
    else if (token.kind === 'op' && (token.text === ')' || token.text === ']')) depth--;
    else if (depth === 0 && isWord(token, 'ORDER') && isWord(tokens[i + 1], 'BY')) return true;
  }
  return false;
}
