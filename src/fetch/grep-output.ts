// What `bqlogfs grep` prints for the entries BigQuery found: each matching line prefixed with
// `namespace/pod/container:` as grep prefixes file names, one JSON object per line (`--format json`),
// counts per container (`--count`), or the lines in one file per pod as `fetch` writes them (`--out`).
import type { RawRow } from '../bigquery/log-warehouse.js';
import type { GrepPattern } from '../model/grep-pattern.js';
import { isDns1123Label, isDns1123Subdomain, type ContainerRef } from '../model/log-path.js';
import { entryLine, lineFormatter, type EntryRow } from '../store/entry-format.js';
import { DuplicateFilter, entryKeyOf } from '../store/entry-order.js';

export type GrepPrint = 'lines' | 'json' | 'count' | 'files';

export interface GrepOutputOptions {
  pattern: GrepPattern;
  /** Applied to pod names here, unanchored, as `fetch --pod` does. */
  podPattern?: RegExp;
  print: GrepPrint;
  /** Lines as the hour files hold them, for `files` (the store's --timestamps, --format and --tz). */
  fileLine: (row: EntryRow) => string;
  sortJsonKeys: boolean;
  write: (text: string) => void;
  /** For `files`: takes a container's matching hour-file lines (each ending in a newline) as they come. */
  keep?: (name: string, ref: ContainerRef, lines: string[]) => void;
}

/** `namespace/pod/container`, the name a match is printed under. */
export function containerName(ref: ContainerRef): string {
  return `${ref.namespace}/${ref.pod}/${ref.container}`;
}

/** Collects the matching lines of result rows in query order, and prints or keeps them. */
export class GrepOutput {
  /** Matching lines per container, in first-match order; for `count`, also containers with none. */
  readonly counts = new Map<string, { ref: ContainerRef; lines: number }>();
  private readonly duplicates = new Map<string, DuplicateFilter>();
  private readonly jsonEntry: (row: EntryRow) => string;

  constructor(private readonly options: GrepOutputOptions) {
    this.jsonEntry = lineFormatter({ timestamps: false, format: 'json' }, options.sortJsonKeys);
  }

  /**
   * Rows of the search query: namespace, pod, container, then the entry columns; for `count`, then
   * `matched`, which is false on the row that only says its container has entries.
   */
  add(rows: readonly RawRow[]): void {
    for (const row of rows) this.addRow(row);
  }

  private addRow(row: RawRow): void {
    const [namespace, pod, container] = row;
    if (!namespace || !pod || !container) return;
    // Names the mount cannot show are not searched either.
    if (!isDns1123Label(namespace) || !isDns1123Subdomain(pod) || !isDns1123Label(container)) return;
    if (this.options.podPattern && !this.options.podPattern.test(pod)) return;
    const ref = { namespace, pod, container };
    const name = containerName(ref);
    const counting = this.options.print === 'count';
    if (counting && !this.counts.has(name)) this.counts.set(name, { ref, lines: 0 });
    if (counting && row[row.length - 1] !== 'true') return;
    const entry = counting ? row.slice(3, -1) : row.slice(3);
    const key = entryKeyOf(entry);
    if (!key) return;
    const duplicates = this.duplicates.get(name) ?? new DuplicateFilter();
    this.duplicates.set(name, duplicates);
    if (!duplicates.accepts(key)) return;
    const text = entryLine(entry[3] ?? null, entry[4] ?? null, this.options.sortJsonKeys).slice(0, -1);
    const matched = text
      .split('\n')
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => this.options.pattern.matches(line));
    if (matched.length === 0) return;
    const count = this.counts.get(name) ?? { ref, lines: 0 };
    count.lines += matched.length;
    this.counts.set(name, count);
    this.print(name, ref, entry, matched);
  }

  private print(name: string, ref: ContainerRef, entry: EntryRow, matched: { line: string; index: number }[]): void {
    const { print, write } = this.options;
    if (print === 'lines') {
      for (const { line } of matched) write(`${name}:${line}\n`);
    } else if (print === 'json') {
      const [namespace, pod, container] = name.split('/');
      const fields = JSON.parse(this.jsonEntry(entry)) as Record<string, unknown>;
      for (const { line } of matched) write(`${JSON.stringify({ namespace, pod, container, line, ...fields })}\n`);
    } else if (print === 'files') {
      const lines = this.options.fileLine(entry).slice(0, -1).split('\n');
      // A JSON entry is one line whatever its payload; a text entry has a file line per payload line.
      const kept = lines.length === 1 ? [`${lines[0] ?? ''}\n`] : matched.map(({ index }) => `${lines[index] ?? ''}\n`);
      this.options.keep?.(name, ref, kept);
    }
  }

  /**
   * `namespace/pod/container:N` per container with entries in the window, 0 for those without a
   * match, in name order, as `grep -c` prints per file.
   */
  printCounts(): void {
    const names = [...this.counts.keys()].sort();
    for (const name of names) this.options.write(`${name}:${this.counts.get(name)?.lines ?? 0}\n`);
  }
}
