// Tokenizer for the GoogleSQL subset the emulator accepts. Whitespace and
// comments are dropped; every other token keeps its source offset so error
// messages can point at it.

export type TokenKind =
  | 'ident' // bare identifier or keyword
  | 'quoted' // `backtick identifier` (value = inner text, may contain dots)
  | 'string' // string literal (value = decoded text)
  | 'bytes' // bytes literal (value = decoded text, latin1 semantics)
  | 'number'
  | 'param' // @name (value = name)
  | 'op'; // operators and punctuation

export interface Token {
  kind: TokenKind;
  text: string;
  value: string;
  pos: number;
}

export class SqlSyntaxError extends Error {}

// No '>>': it would swallow the closing brackets of nested types such as ARRAY<STRUCT<x INT64>>.
const MULTI_CHAR_OPS = ['<<', '<=', '>=', '<>', '!=', '||', '=>'];

function isIdentStart(c: string): boolean {
  return /[A-Za-z_]/.test(c);
}

function isIdentPart(c: string): boolean {
  return /[A-Za-z0-9_]/.test(c);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  v: '\v',
  a: '\x07',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
  '?': '?',
};

function decodeEscapes(raw: string, pos: number): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = raw[i + 1];
    if (n === undefined) throw new SqlSyntaxError(`Illegal escape sequence at [${pos}]`);
    if (n in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[n];
      i++;
    } else if (n === 'x' || n === 'X') {
      out += String.fromCharCode(parseInt(raw.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (n === 'u') {
      out += String.fromCodePoint(parseInt(raw.slice(i + 2, i + 6), 16));
      i += 5;
    } else if (n === 'U') {
      out += String.fromCodePoint(parseInt(raw.slice(i + 2, i + 10), 16));
      i += 9;
    } else if (/[0-7]/.test(n)) {
      out += String.fromCharCode(parseInt(raw.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      throw new SqlSyntaxError(`Illegal escape sequence: \\${n}`);
    }
  }
  return out;
}

/** Reads a quoted literal starting at `start` (at the prefix, if any). */
function readQuoted(sql: string, start: number, quoteAt: number): { end: number; body: string } {
  const q = sql[quoteAt]!;
  const triple = sql.startsWith(q.repeat(3), quoteAt);
  const delim = triple ? q.repeat(3) : q;
  let i = quoteAt + delim.length;
  let body = '';
  for (;;) {
    if (i >= sql.length) throw new SqlSyntaxError(`Unclosed string literal at [${start}]`);
    if (sql.startsWith(delim, i)) return { end: i + delim.length, body };
    const c = sql[i]!;
    if (c === '\\') {
      // Raw strings keep the backslash but it still protects the next char.
      body += c + (sql[i + 1] ?? '');
      i += 2;
      continue;
    }
    if (!triple && c === '\n') throw new SqlSyntaxError(`Unclosed string literal at [${start}]`);
    body += c;
    i++;
  }
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#' || (c === '-' && sql[i + 1] === '-')) {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new SqlSyntaxError(`Unclosed comment at [${i}]`);
      i = end + 2;
      continue;
    }
    const start = i;
    // String / bytes literals with optional r/b/rb/br prefixes.
    const prefix = /^(rb|br|r|b)?['"]/i.exec(sql.slice(i, i + 3));
    if (prefix) {
      const p = (prefix[1] ?? '').toLowerCase();
      const quoteAt = i + p.length;
      const isRaw = p.includes('r');
      const { end, body } = readQuoted(sql, start, quoteAt);
      tokens.push({
        kind: p.includes('b') ? 'bytes' : 'string',
        text: sql.slice(start, end),
        value: isRaw ? body : decodeEscapes(body, start),
        pos: start,
      });
      i = end;
      continue;
    }
    if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw new SqlSyntaxError(`Unclosed identifier literal at [${i}]`);
      tokens.push({ kind: 'quoted', text: sql.slice(i, end + 1), value: sql.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    if (c === '@' && sql[i + 1] !== '@') {
      let j = i + 1;
      while (j < sql.length && isIdentPart(sql[j]!)) j++;
      if (j === i + 1) throw new SqlSyntaxError(`Syntax error: Unexpected "@" at [${i}]`);
      tokens.push({ kind: 'param', text: sql.slice(i, j), value: sql.slice(i + 1, j), pos: i });
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < sql.length && isIdentPart(sql[j]!)) j++;
      tokens.push({ kind: 'ident', text: sql.slice(i, j), value: sql.slice(i, j), pos: i });
      i = j;
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(sql.slice(i, i + 64));
    if (num && /[0-9.]/.test(c) && !(c === '.' && !/\d/.test(sql[i + 1] ?? ''))) {
      tokens.push({ kind: 'number', text: num[0], value: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const two = sql.slice(i, i + 2);
    if (MULTI_CHAR_OPS.includes(two)) {
      tokens.push({ kind: 'op', text: two, value: two, pos: i });
      i += 2;
      continue;
    }
    if ('()[],.;*+-/%=<>!|&^~:{}?@'.includes(c)) {
      tokens.push({ kind: 'op', text: c, value: c, pos: i });
      i++;
      continue;
    }
    throw new SqlSyntaxError(`Syntax error: Illegal input character "${c}" at [${i}]`);
  }
  return tokens;
}

export function isOp(t: Token | undefined, op: string): boolean {
  return t !== undefined && t.kind === 'op' && t.text === op;
}

export function isWord(t: Token | undefined, word: string): boolean {
  return t !== undefined && t.kind === 'ident' && t.text.toUpperCase() === word;
}

export function upper(t: Token | undefined): string {
  return t !== undefined && t.kind === 'ident' ? t.text.toUpperCase() : '';
}

/** For each '(' or '[' index, the index of its matching closer (and vice versa). */
export function matchBrackets(tokens: Token[]): Map<number, number> {
  const pairs = new Map<number, number>();
  const stack: number[] = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'op') return;
    if (t.text === '(' || t.text === '[') stack.push(i);
    else if (t.text === ')' || t.text === ']') {
      const open = stack.pop();
      if (open === undefined || (tokens[open]!.text === '(') !== (t.text === ')')) {
        throw new SqlSyntaxError(`Syntax error: Unexpected "${t.text}" at [${t.pos}]`);
      }
      pairs.set(open, i);
      pairs.set(i, open);
    }
  });
  if (stack.length > 0) {
    const open = tokens[stack[stack.length - 1]!]!;
    throw new SqlSyntaxError(`Syntax error: Unclosed "${open.text}" at [${open.pos}]`);
  }
  return pairs;
}
