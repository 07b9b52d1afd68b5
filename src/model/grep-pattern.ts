// What `bqlogfs grep PATTERN` looks for, in the two forms it is tested in: an RE2 pattern or a fixed
// string for BigQuery, which picks the entries, and a matcher for one line, which picks the lines of
// those entries (an entry may span several lines, and a JSON payload's line is not the text
// BigQuery matched). Both must agree on every line, so only syntax both engines read alike is taken.
import { UsageError } from './usage-error.js';

export type PatternSyntax = 'fixed' | 'basic' | 'extended';

export interface GrepPattern {
  /** A fixed string, or an RE2 pattern in ERE spelling. */
  kind: 'fixed' | 'regex';
  /** The string BigQuery gets as a query parameter: the fixed string, or the RE2 pattern. */
  text: string;
  ignoreCase: boolean;
  /** Whether one line (without its newline) matches. */
  matches(line: string): boolean;
}

/** POSIX classes, as RE2 reads them (ASCII only); JavaScript has none, so both get the ranges. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t\\n\\v\\f\\r ',
  blank: '\\t ',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '0-9A-Za-z_',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
};

/** The end of a bracket expression starting at `start` (the `[`), and its text with POSIX classes spelled out. */
function bracketExpression(pattern: string, start: number): { end: number; text: string } {
  let index = start + 1;
  let text = '[';
  if (pattern[index] === '^') {
    text += '^';
    index++;
  }
  // A `]` first in the list is a member, as in POSIX.
  if (pattern[index] === ']') {
    text += '\\]';
    index++;
  }
  while (index < pattern.length) {
    const char = pattern[index] as string;
    if (char === ']') return { end: index + 1, text: `${text}]` };
    const posix = /^\[:([a-z]+):\]/.exec(pattern.slice(index));
    if (posix) {
      const range = POSIX_CLASSES[posix[1] as string];
      if (range === undefined) throw new UsageError(`unknown character class [:${posix[1]}:]`);
      text += range;
      index += posix[0].length;
      continue;
    }
    if (char === '\\') {
      text += pattern.slice(index, index + 2);
      index += 2;
      continue;
    }
    // A literal `[` inside a list must be escaped for JavaScript's `v`-less `u` mode to agree.
    text += char === '[' ? '\\[' : char;
    index++;
  }
  throw new UsageError('unmatched [ in the pattern');
}

/**
 * A basic regular expression (grep's default) in ERE spelling: `\(`, `\)`, `\{`, `\}`, `\|`, `\+`
 * and `\?` are the operators (GNU's extensions included); `(`, `)`, `{`, `}`, `|`, `+` and `?` are
 * literal, as are `*` at the start of the pattern or of a group, and `^`/`$` away from its ends.
 */
export function basicToExtended(pattern: string): string {
  let out = '';
  let index = 0;
  const atGroupStart = () => out === '' || out.endsWith('(') || out.endsWith('|') || out === '^';
  while (index < pattern.length) {
    const char = pattern[index] as string;
    if (char === '[') {
      const bracket = bracketExpression(pattern, index);
      out += bracket.text;
      index = bracket.end;
      continue;
    }
    if (char === '\\') {
      const next = pattern[index + 1];
      if (next === undefined) throw new UsageError('trailing backslash in the pattern');
      out += '(){}|+?'.includes(next) ? next : `\\${next}`;
      index += 2;
      continue;
    }
    if ('(){}|+?'.includes(char)) out += `\\${char}`;
    else if (char === '*' && atGroupStart()) out += '\\*';
    else if (char === '^' && !atGroupStart()) out += '\\^';
    else if (char === '$' && index + 1 < pattern.length && !/^\\[)|]/.test(pattern.slice(index + 1))) out += '\\$';
    else out += char;
    index++;
  }
  return out;
}

/** An ERE with its bracket expressions' POSIX classes spelled out. */
function withPosixClasses(pattern: string): string {
  let out = '';
  let index = 0;
  while (index < pattern.length) {
    const char = pattern[index] as string;
    if (char === '[') {
      const bracket = bracketExpression(pattern, index);
      out += bracket.text;
      index = bracket.end;
    } else if (char === '\\') {
      out += pattern.slice(index, index + 2);
      index += 2;
    } else {
      out += char;
      index++;
    }
  }
  return out;
}

/** Syntax JavaScript reads but RE2 (BigQuery) refuses. */
const NOT_RE2 = [
  { pattern: /\(\?<?[=!]/, what: 'lookaround assertions' },
  { pattern: /\\[1-9]/, what: 'back-references' },
];

function regexMatcher(pattern: string, ignoreCase: boolean): (line: string) => boolean {
  for (const { pattern: syntax, what } of NOT_RE2) {
    if (syntax.test(pattern.replace(/\\\\/g, ''))) {
      throw new UsageError(`the pattern uses ${what}, which BigQuery's regular expressions (RE2) do not have`);
    }
  }
  let compiled: RegExp;
  try {
    // `s`: a line holds no newline, and RE2's `.` matches anything else, \r included.
    compiled = new RegExp(pattern, ignoreCase ? 'sui' : 'su');
  } catch (error) {
    const message = (error as Error).message.replace(/^Invalid regular expression: /, '');
    throw new UsageError(
      `not a regular expression grep can run in BigQuery: ${message} ` +
        '(RE2 syntax that JavaScript also reads; for case-insensitive matching use -i, not (?i))',
    );
  }
  return (line) => compiled.test(line);
}

/** Checks the pattern and builds both forms of it; a usage error says what is wrong. */
export function grepPattern(text: string, syntax: PatternSyntax, ignoreCase: boolean): GrepPattern {
  if (text.includes('\n')) throw new UsageError('the pattern cannot contain a newline (give one pattern)');
  if (syntax === 'fixed') {
    const needle = ignoreCase ? text.toLowerCase() : text;
    const matches = ignoreCase
      ? (line: string) => line.toLowerCase().includes(needle)
      : (line: string) => line.includes(needle);
    return { kind: 'fixed', text, ignoreCase, matches };
  }
  const extended = syntax === 'basic' ? basicToExtended(text) : withPosixClasses(text);
  return { kind: 'regex', text: extended, ignoreCase, matches: regexMatcher(extended, ignoreCase) };
}
