// Applies a unified diff of one file to a directory, without the `patch` program (which a fresh
// machine may lack): each hunk's old lines, searched for after the previous hunk, are replaced by its
// new lines. Returns "applied", or "already applied" when the new lines of every hunk are there in
// order; anything else, such as another version of the file, fails and leaves the file unchanged.
// Used by scripts/patch-fuse-native.js.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function parse(text) {
  const lines = text.split('\n');
  const target = lines.find((line) => line.startsWith('+++ '));
  if (target === undefined) throw new Error('no +++ line');
  const file = target.slice(4).split('\t')[0].replace(/^b\//, '');
  const hunks = [];
  for (const line of lines) {
    if (line.startsWith('@@')) hunks.push({ old: [], new: [] });
    else if (hunks.length === 0 || line.startsWith('\\')) continue;
    else {
      const hunk = hunks[hunks.length - 1];
      const body = line.slice(1);
      if (line.startsWith(' ')) {
        hunk.old.push(body);
        hunk.new.push(body);
      } else if (line.startsWith('-')) hunk.old.push(body);
      else if (line.startsWith('+')) hunk.new.push(body);
    }
  }
  return { file, hunks: hunks.map((hunk) => ({ old: hunk.old.join('\n'), new: hunk.new.join('\n') })) };
}

// Where each hunk's text (old or new) starts, searching in order, or undefined when one is missing.
function locate(text, parts) {
  const starts = [];
  let from = 0;
  for (const part of parts) {
    const at = text.indexOf(part, from);
    if (at === -1) return undefined;
    starts.push(at);
    from = at + part.length;
  }
  return starts;
}

/** Applies `patchFile` under `directory`: "applied" or "already applied"; throws when it does not match. */
export function applyPatch(directory, patchFile) {
  const { file, hunks } = parse(readFileSync(patchFile, 'utf8'));
  const path = join(directory, file);
  const original = readFileSync(path, 'utf8');
  if (
    locate(
      original,
      hunks.map((hunk) => hunk.new),
    ) !== undefined
  ) {
    return 'already applied';
  }
  const starts = locate(
    original,
    hunks.map((hunk) => hunk.old),
  );
  if (starts === undefined) throw new Error(`${path} does not match ${patchFile}; the file is left as it was`);
  let patched = '';
  let from = 0;
  for (const [index, hunk] of hunks.entries()) {
    patched += original.slice(from, starts[index]) + hunk.new;
    from = starts[index] + hunk.old.length;
  }
  writeFileSync(path, patched + original.slice(from));
  return 'applied';
}
