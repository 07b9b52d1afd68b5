// Reads docs/semantics.md as data: the log entries its table describes, the clock its examples run
// at, and its ```console examples, each with the mount options it runs under and the output every
// command must print. Nothing here knows the expected outputs; the document is the only source.
import type { TableField } from '@google-cloud/bigquery';
import type { LogEntry } from '../../src/demo/sink-tables.js';

/** One `$ command` of an example and the lines it must print (stdout and stderr, merged). */
export interface ExampleStep {
  command: string;
  expected: string;
}

/** A ```console block: run in a mount made with `flags` (the words after `console`). */
export interface Example {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  flags: string[];
  steps: ExampleStep[];
}

export interface SemanticsDocument {
  entries: LogEntry[];
  /** The daemon's clock when the examples start, RFC 3339. */
  clock: string;
  examples: Example[];
}

/** The data table's columns; `note` is for readers only. */
const DATA_HEADER = ['timestamp', 'insertId', 'stream', 'container', 'payload', 'note'];
/** A table of entries Cloud Logging split: `split` is `uid=U index=I totalSplits=N`. */
const SPLIT_HEADER = ['timestamp', 'insertId', 'stream', 'container', 'payload', 'split', 'note'];
const SPLIT_CELL = /^uid=(\S+) index=(\d+) totalSplits=(\d+)$/;
/** The controllers table: each pod's top-level controller, which its entries carry as labels. */
const CONTROLLER_HEADER = ['pod', 'controller', 'kind'];
const FENCE = /^```(.*)$/;

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1'));
}

function entryOf(row: string[], line: number, header: readonly string[]): LogEntry {
  const [timestamp = '', insertId = '', stream = '', container = '', payload = ''] = row;
  const where = `docs/semantics.md:${line}`;
  if (row.length !== header.length) throw new Error(`${where}: a data row has ${header.length} cells`);
  if (header === SPLIT_HEADER) {
    const split = SPLIT_CELL.exec(row[5] ?? '');
    if (!split) throw new Error(`${where}: split is uid=U index=I totalSplits=N`);
    const [, uid = '', index = '', totalSplits = ''] = split;
    const entry = entryOf([...row.slice(0, 5), row[6] ?? ''], line, DATA_HEADER);
    return { ...entry, split: { uid, index: Number(index), totalSplits: Number(totalSplits) } };
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(timestamp)) throw new Error(`${where}: bad timestamp`);
  if (stream !== 'stdout' && stream !== 'stderr') throw new Error(`${where}: stream is stdout or stderr`);
  const [namespace, pod, name, ...rest] = container.split('/');
  if (!namespace || !pod || !name || rest.length > 0) throw new Error(`${where}: container is namespace/pod/name`);
  const value: unknown = JSON.parse(payload);
  const entry: LogEntry = { namespace, pod, container: name, stream, timestamp, insertId };
  if (typeof value === 'string') return { ...entry, textPayload: value };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return { ...entry, jsonPayload: value as Record<string, unknown> };
  }
  throw new Error(`${where}: a payload is a JSON string (textPayload) or object (jsonPayload)`);
}

/** Parses the document; throws when its data table, clock or examples are not where they should be. */
export function parseSemantics(markdown: string): SemanticsDocument {
  const lines = markdown.split('\n');
  const entries: LogEntry[] = [];
  const examples: Example[] = [];
  let dataTables = 0;
  const controllers = new Map<string, { name: string; kind: string }>();
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      const [language = '', ...flags] = (fence[1] ?? '').trim().split(/\s+/);
      const body: string[] = [];
      const opening = index;
      for (index++; index < lines.length && lines[index] !== '```'; index++) body.push(lines[index] ?? '');
      if (language === 'console') examples.push({ line: opening + 1, flags, steps: stepsOf(body, opening + 1) });
      continue;
    }
    const header = line.startsWith('|')
      ? [DATA_HEADER, SPLIT_HEADER].find((h) => cells(line).join() === h.join())
      : undefined;
    if (header) {
      if (header === DATA_HEADER) dataTables++;
      for (index += 2; (lines[index] ?? '').startsWith('|'); index++) {
        entries.push(entryOf(cells(lines[index] ?? ''), index + 1, header));
      }
    }
    if (line.startsWith('|') && cells(line).join() === CONTROLLER_HEADER.join()) {
      for (index += 2; (lines[index] ?? '').startsWith('|'); index++) {
        const [pod = '', name = '', kind = ''] = cells(lines[index] ?? '');
        controllers.set(pod, { name, kind });
      }
    }
  }
  for (const entry of entries) {
    const controller = controllers.get(`${entry.namespace}/${entry.pod}`);
    if (controller) entry.controller = controller;
  }
  const clock = /clock reads `([^`]+)`/.exec(markdown)?.[1];
  if (dataTables !== 1 || entries.length === 0) throw new Error('docs/semantics.md needs exactly one data table');
  if (!clock || Number.isNaN(Date.parse(clock))) throw new Error('docs/semantics.md must say "clock reads `<time>`"');
  if (examples.length === 0) throw new Error('docs/semantics.md has no ```console examples');
  return { entries, clock, examples };
}

function stepsOf(body: string[], line: number): ExampleStep[] {
  const steps: { command: string; output: string[] }[] = [];
  for (const text of body) {
    if (text.startsWith('$ ')) steps.push({ command: text.slice(2), output: [] });
    else if (steps.length === 0) throw new Error(`docs/semantics.md:${line}: an example starts with "$ "`);
    else steps[steps.length - 1]?.output.push(text);
  }
  return steps.map(({ command, output }) => ({
    command,
    expected: output.map((text) => `${text}\n`).join(''),
  }));
}

function fieldType(values: unknown[]): TableField {
  const present = values.filter((value) => value !== null && value !== undefined);
  const [first] = present;
  if (typeof first === 'number') return { type: 'FLOAT' };
  if (typeof first === 'boolean') return { type: 'BOOLEAN' };
  if (first !== undefined && typeof first === 'object') {
    return { type: 'RECORD', fields: jsonPayloadFields(present as Record<string, unknown>[]) };
  }
  return { type: 'STRING' };
}

/**
 * The sink's jsonPayload columns for these payloads, in the order their fields first appear, typed
 * as Cloud Logging types them (numbers FLOAT, a field that is only ever null STRING).
 */
export function jsonPayloadFields(payloads: Record<string, unknown>[]): TableField[] {
  const names = [...new Set(payloads.flatMap((payload) => Object.keys(payload)))];
  return names.map((name) => ({
    name,
    mode: 'NULLABLE',
    ...fieldType(payloads.map((payload) => payload[name])),
  }));
}
