// The layering of src/: every import points down the layers or stays in its folder, only the
// demo and the command line know the local server, and no module outgrows one job.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';

const SRC = resolve(import.meta.dirname, '../src');

/** Higher layers may import lower ones; folders on one level may not import each other. */
const LAYER: Record<string, number> = {
  model: 0,
  bigquery: 1,
  store: 2,
  fs: 3,
  daemon: 4,
  fetch: 4,
  doctor: 4,
  emulator: 4,
  demo: 5,
  cli: 6,
  types: 0,
};
/** Who may import the local server. */
const KNOWS_EMULATOR = new Set(['emulator', 'demo', 'cli']);
/** The emulator's SQL translator is one long grammar; everything else keeps to one job. */
const MAX_LINES = 300;
const LONG_ALLOWED = new Set(['emulator/sql/translate.ts']);

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function folderOf(path: string): string {
  return relative(SRC, path).split('/')[0] ?? '';
}

const files = await sourceFiles(SRC);

t.test('every file is in a layer folder', async (t) => {
  for (const file of files) t.ok(folderOf(file) in LAYER, relative(SRC, file));
});

t.test('imports point down the layers', async (t) => {
  const upward: string[] = [];
  for (const file of files) {
    const from = folderOf(file);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = folderOf(resolve(dirname(file), match[1] ?? ''));
      if (to === from) continue;
      const allowed = to === 'emulator' ? KNOWS_EMULATOR.has(from) : (LAYER[to] ?? 99) < (LAYER[from] ?? -1);
      if (!allowed) upward.push(`${relative(SRC, file)} → ${match[1]}`);
    }
  }
  t.same(upward, [], 'no import points up or sideways');
});

t.test(`no module is longer than ${MAX_LINES} lines`, async (t) => {
  const long: string[] = [];
  for (const file of files) {
    const lines = (await readFile(file, 'utf8')).split('\n').length;
    if (lines > MAX_LINES && !LONG_ALLOWED.has(relative(SRC, file))) long.push(`${relative(SRC, file)}: ${lines}`);
  }
  t.same(long, []);
});
