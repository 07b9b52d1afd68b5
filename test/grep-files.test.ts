// GrepFiles, the files of `bqlogfs grep --out`: lines written as they come with a bounded amount
// waiting in memory, few descriptors held whatever the number of containers, nothing visible under a
// file's name before `finish`, and nothing left after `discard`.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GrepFiles } from '../src/fetch/grep-files.js';
import { OutputDirectory } from '../src/fetch/output-files.js';
import type { ContainerRef } from '../src/model/log-path.js';
import { testDir } from './support/daemon.js';

const fileName = (ref: ContainerRef) => `${ref.namespace}_${ref.pod}_${ref.container}.log`;
const refOf = (pod: number): ContainerRef => ({ namespace: 'shop', pod: `pod-${pod}`, container: 'app' });
const openFiles = async () => (await readdir('/proc/self/fd')).length;

t.test('lines reach their files with little waiting and few descriptors', async (t) => {
  const dir = await testDir(t, 'grep-files');
  const limit = 64 * 1024;
  const files = new GrepFiles(new OutputDirectory(dir), fileName, limit);
  const expected = new Map<string, string>();
  const before = await openFiles();
  let mostOpen = 0;
  // 300 containers, lines of varying length, kept a page at a time as a search delivers them.
  for (let page = 0; page < 60; page++) {
    for (let row = 0; row < 500; row++) {
      const pod = (page * 7 + row * 13) % 300;
      const line = `page ${page} row ${row} ${'x'.repeat((row * 31) % 200)}\n`;
      const ref = refOf(pod);
      files.keep(`shop/pod-${pod}/app`, ref, [line]);
      expected.set(fileName(ref), (expected.get(fileName(ref)) ?? '') + line);
    }
    await files.spill();
    mostOpen = Math.max(mostOpen, (await openFiles()) - before);
  }
  const pageBytes = 500 * 250;
  t.ok(files.peakWaitingBytes <= limit, `at most the bound waits after a spill (${files.peakWaitingBytes} bytes)`);
  t.ok(mostOpen <= 2, `descriptors held between pages: ${mostOpen}`);
  t.ok(pageBytes * 60 > 50 * limit, 'the lines come to far more than the bound');
  t.same(
    (await readdir(dir)).filter((name) => !name.startsWith('.')),
    [],
    'no file is visible under its name before finish',
  );

  const wrote: string[] = [];
  await files.finish((path) => wrote.push(path));
  t.same((await readdir(dir)).sort(), [...expected.keys()].sort(), 'one file per container, no temporary file left');
  t.equal(wrote.length, 300, 'each file reported once');
  for (const [name, content] of expected) t.equal(await readFile(join(dir, name), 'utf8'), content, name);
});

t.test('discard leaves nothing', async (t) => {
  const dir = await testDir(t, 'grep-files');
  const files = new GrepFiles(new OutputDirectory(dir), fileName, 1024);
  for (let pod = 0; pod < 5; pod++) files.keep(`shop/pod-${pod}/app`, refOf(pod), ['y'.repeat(600) + '\n']);
  await files.spill();
  t.ok((await readdir(dir)).length > 0, 'some lines were written out');
  await files.discard();
  t.same(await readdir(dir), [], 'every file removed');
});
