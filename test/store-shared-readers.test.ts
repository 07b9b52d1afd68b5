// Final hour files opened once for all their readers: readers opened while the file is open share
// its descriptor, the descriptor stays open a moment after the last reader leaves and is then
// closed, and a file that could not be opened is tried again by the next reader.
import t from 'tap';
import { open, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readerOf, type HourReader } from '../src/store/hour-file-writers.js';
import { SharedReaders } from '../src/store/shared-readers.js';
import { testDir } from './support/daemon.js';

const IDLE_MS = 50;

/** Descriptors of this process open on `path`. */
async function descriptorsOn(path: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target === path) count++;
  }
  return count;
}

async function setup(t: Parameters<typeof testDir>[0]) {
  const dir = await testDir(t, 'shared');
  const path = join(dir, '12.log');
  await writeFile(path, 'first line\nsecond line\n');
  let opens = 0;
  const openFile = async (): Promise<HourReader> => {
    opens++;
    return readerOf(await open(path, 'r'));
  };
  return { path, openFile, opens: () => opens };
}

async function text(reader: HourReader, position = 0, length = 64): Promise<string> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await reader.read(buffer, 0, length, position);
  return buffer.toString('utf8', 0, bytesRead);
}

t.test('readers of one file share one descriptor, closed a moment after the last leaves', async (t) => {
  const { path, openFile, opens } = await setup(t);
  const shared = new SharedReaders<object>(IDLE_MS);
  const file = {};
  const [a, b] = await Promise.all([shared.open(file, openFile), shared.open(file, openFile)]);
  t.equal(opens(), 1);
  t.equal(await descriptorsOn(path), 1);
  t.equal(await text(a), 'first line\nsecond line\n');
  t.equal(await text(b, 11), 'second line\n');
  await a.close();
  await a.close(); // a second close of one reader counts once
  t.equal(await text(b), 'first line\nsecond line\n', 'the other reader still reads');
  await b.close();
  t.equal(await descriptorsOn(path), 1, 'kept open while idle');
  const c = await shared.open(file, openFile);
  t.equal(opens(), 1, 'a reader coming back within the idle time reuses it');
  await c.close();
  await sleep(IDLE_MS * 4);
  t.equal(await descriptorsOn(path), 0, 'closed once idle');
  t.equal(shared.size, 0);
  const d = await shared.open(file, openFile);
  t.equal(opens(), 2, 'opened again after it was closed');
  await d.close();
  await shared.closeIdle();
  t.equal(await descriptorsOn(path), 0);
});

t.test('another file (an hour fetched again) gets a descriptor of its own', async (t) => {
  const { openFile, opens } = await setup(t);
  const shared = new SharedReaders<object>(IDLE_MS);
  const first = await shared.open({}, openFile);
  const second = await shared.open({}, openFile);
  t.equal(opens(), 2);
  await Promise.all([first.close(), second.close()]);
  await shared.closeIdle();
  t.equal(shared.size, 0);
});

t.test('closeIdle leaves a descriptor that is being read', async (t) => {
  const { path, openFile } = await setup(t);
  const shared = new SharedReaders<object>(60_000);
  const reading = await shared.open({}, openFile);
  const idle = await shared.open({}, openFile);
  await idle.close();
  await shared.closeIdle();
  t.equal(await descriptorsOn(path), 1);
  t.equal(await text(reading, 0, 5), 'first');
  await reading.close();
  await shared.closeIdle();
  t.equal(await descriptorsOn(path), 0);
});

t.test('a file that cannot be opened fails its readers, and the next reader tries again', async (t) => {
  const { path, openFile, opens } = await setup(t);
  const shared = new SharedReaders<object>(IDLE_MS);
  const file = {};
  await rm(path);
  await t.rejects(shared.open(file, openFile), { code: 'ENOENT' });
  t.equal(shared.size, 0);
  await writeFile(path, 'back\n');
  const reader = await shared.open(file, openFile);
  t.equal(opens(), 2);
  t.equal(await text(reader), 'back\n');
  await reader.close();
  await shared.closeIdle();
});
