// Kubernetes label selectors as kubectl reads them (`-l app=api,tier!=db,env in (a,b),!canary`),
// checked before anything is queried, and the column of a sink's table that holds each label.
import { UsageError } from './usage-error.js';

export type LabelRequirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | 'absent' };

const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function checkKey(key: string): string {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (!NAME.test(name) || (prefix !== undefined && (prefix.length > 253 || !PREFIX.test(prefix)))) {
    throw new UsageError(
      `-l: "${key}" is not a label key ([prefix/]name: a name of at most 63 letters, digits, -, _ and .)`,
    );
  }
  return key;
}

function checkValue(value: string, key: string): string {
  if (value !== '' && !NAME.test(value)) {
    throw new UsageError(
      `-l: "${value}" is not a valid value for label ${key} (at most 63 letters, digits, -, _ and .)`,
    );
  }
  return value;
}

/** The requirements, split at the commas that are not inside `( … )`. */
function requirementsOf(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (depth < 0) throw new UsageError(`-l: unbalanced ) in "${selector}"`);
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  if (depth !== 0) throw new UsageError(`-l: unbalanced ( in "${selector}"`);
  parts.push(current.trim());
  return parts;
}

function requirement(text: string): LabelRequirement {
  if (text === '') throw new UsageError('-l: an empty requirement (two commas, or one at an end)');
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(text);
  if (set) {
    const key = checkKey(set[1] as string);
    const values = (set[3] as string).split(',').map((value) => checkValue(value.trim(), key));
    return { key, op: set[2] as 'in' | 'notin', values };
  }
  const comparison = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (comparison) {
    const key = checkKey(comparison[1] as string);
    const value = checkValue(comparison[3] as string, key);
    return { key, op: comparison[2] === '!=' ? 'notin' : 'in', values: [value] };
  }
  const absent = /^!\s*(\S+)$/.exec(text);
  if (absent) return { key: checkKey(absent[1] as string), op: 'absent' };
  if (/^\S+$/.test(text)) return { key: checkKey(text), op: 'exists' };
  throw new UsageError(
    `-l: cannot read "${text}" (use key=value, key!=value, key in (a,b), key notin (a,b), key or !key)`,
  );
}

/** Parses a selector; a usage error names what is wrong. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  return requirementsOf(selector.trim()).map(requirement);
}

/** The field of a sink's `labels` column holding a pod label: `k8s_pod_` and the key with `/`, `.`, `-` as `_`. */
export function podLabelField(key: string): string {
  return `k8s_pod_${key.replace(/[/.-]/g, '_')}`;
}
