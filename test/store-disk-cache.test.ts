// The disk cache on its own, in process: hour files written whole or not at all (temporary name,
// rename on commit; appends cut back on abandon), short writes and a full disk, reads of exactly the
// whole bytes, manifests, what a crash left behind, and the bound by container-day with eviction.
import t, { type Test } from 'tap';
import { mkdir, mkdtemp, open, readdir, readFile, rm, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { childEnv, nodeCommand } from './support/cli-process.js';
import { DiskCache, dayKey, type HourId } from '../src/store/disk-cache.js';
import { appendingWriter, newFileWriter } from '../src/store/hour-file-writers.js';
import type { ContainerRef } from '../src/model/log-path.js';

const REF: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'app' };
const DAY = '2026-11-25';
const KEY = 'key';

async function cacheDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bqlogfs-disk-cache-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`, relative to it; a directory removed while it is listed is listed again. */
async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  for (;;) {
    try {
      entries = await readdir(dir, { recursive: true, withFileTypes: true });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

async function readAll(cache: DiskCache, file: HourId & { size: number }): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of cache.readWhole(file)) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

async function writeHour(cache: DiskCache, id: HourId, text: string): Promise<void> {
  const writer = await cache.createHour(id);
  await writer.write(Buffer.from(text));
  await writer.commit();
}

function hourId(hour: number, day = DAY): HourId {
  return { ref: REF, day, hour };
}

t.test('a new hour file appears under its name only when committed', async (t) => {
  const dir = await cacheDir(t);
  const cache = await DiskCache.open(dir, KEY, 1 << 20);
  const writer = await cache.createHour(hourId(10));
  await writer.write(Buffer.from('one\n'));
  await writer.write(Buffer.from('two\n'));
  t.equal(writer.size, 8);
  t.equal(await cache.statHour(hourId(10)), undefined, 'nothing under the real name while it is written');
  t.match(await filesUnder(dir), [/\.10\.log\.[0-9a-f]+\.[0-9a-f]+-\d+-\d+\.partial$/], 'only a temporary file');
  await writer.commit();
  t.same(await filesUnder(dir), [`${KEY}/shop/web-1/app/${DAY}/10.log`]);
  t.equal((await cache.statHour(hourId(10)))?.size, 8);
  t.equal(await readAll(cache, { ...hourId(10), size: 8 }), 'one\ntwo\n');
});

t.test('an abandoned new hour file leaves nothing behind', async (t) => {
  const dir = await cacheDir(t);
  const cache = await DiskCache.open(dir, KEY, 1 << 20);
  await writeHour(cache, hourId(9), 'kept\n');
  const writer = await cache.createHour(hourId(10));
  await writer.write(Buffer.from('dropped\n'));
  await writer.abandon();
  t.same(await filesUnder(dir), [`${KEY}/shop/web-1/app/${DAY}/09.log`]);
});

t.test('appends grow the live file; an abandoned append is cut back to the whole bytes', async (t) => {
  const dir = await cacheDir(t);
  const cache = await DiskCache.open(dir, KEY, 1 << 20);
  await writeHour(cache, hourId(11), 'a\nb\n');
  const appended = await cache.appendToHour({ ...hourId(11), size: 4 });
  await appended.write(Buffer.from('c\n'));
  t.equal(appended.size, 6, 'the size counts what the file had');
  await appended.commit();
  t.equal(await readAll(cache, { ...hourId(11), size: 6 }), 'a\nb\nc\n');

  const abandoned = await cache.appendToHour({ ...hourId(11), size: 6 });
  await abandoned.write(Buffer.from('half of d'));
  await abandoned.abandon();
  t.equal((await cache.statHour(hourId(11)))?.size, 6, 'cut back');
  t.equal(await readAll(cache, { ...hourId(11), size: 6 }), 'a\nb\nc\n');
});

t.test('reads hand out the bytes a file had when it was handed out, however it grew since', async (t) => {
  const dir = await cacheDir(t);
  const cache = await DiskCache.open(dir, KEY, 1 << 20);
  await writeHour(cache, hourId(11), 'first\n');
  const reader = await cache.openForReading(hourId(11));
  const appended = await cache.appendToHour({ ...hourId(11), size: 6 });
  await appended.write(Buffer.from('second\n'));
  await appended.commit();
  t.equal(await readAll(cache, { ...hourId(11), size: 6 }), 'first\n', 'readWhole stops at the size asked');
  const buffer = Buffer.alloc(32);
  const { bytesRead } = await reader.read(buffer, 0, 32, 3);
  t.equal(buffer.subarray(0, bytesRead).toString(), 'st\nsecond\n', 'an open reader sees the file grow');
  await reader.close();
  t.equal(await readAll(cache, { ...hourId(11), size: 0 }), '', 'an empty copy opens nothing');
  await t.rejects(cache.openForReading(hourId(12)), { code: 'ENOENT' });
});

/** A file handle that writes at most `limit` bytes per call, and fails with ENOSPC past `capacity`. */
function stingyHandle(handle: FileHandle, limit: number, capacity = Infinity): FileHandle {
  let written = 0;
  const write = async (buffer: Buffer, offset = 0) => {
    if (written >= capacity)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const length = Math.min(limit, buffer.length - offset, capacity - written);
    const result = await handle.write(buffer, offset, length);
    written += result.bytesWritten;
    return result;
  };
  return new Proxy(handle, {
    get: (target, name) => (name === 'write' ? write : Reflect.get(target, name, target)),
  });
}

t.test('short writes: every byte of a chunk is written, however few each write takes', async (t) => {
  const dir = await cacheDir(t);
  const path = join(dir, 'file');
  const renamed: string[] = [];
  const writer = newFileWriter(stingyHandle(await open(path, 'wx'), 3), {
    commit: async () => void renamed.push('committed'),
    discard: () => rm(path, { force: true }),
  });
  await writer.write(Buffer.from('a line longer than three bytes\n'));
  await writer.write(Buffer.from('and another\n'));
  await writer.commit();
  t.equal(await readFile(path, 'utf8'), 'a line longer than three bytes\nand another\n');
  t.equal(writer.size, 43);
  t.same(renamed, ['committed']);
});

t.test('a full disk fails the write, and abandoning leaves the file as it was', async (t) => {
  const dir = await cacheDir(t);
  const path = join(dir, 'new');
  const full = newFileWriter(stingyHandle(await open(path, 'wx'), 4, 10), {
    commit: () => Promise.reject(new Error('must not commit')),
    discard: () => rm(path, { force: true }),
  });
  await t.rejects(full.write(Buffer.from('more than ten bytes\n')), { code: 'ENOSPC' });
  await full.abandon();
  t.same(await readdir(dir), [], 'the new file is gone');

  const live = join(dir, 'live');
  await writeFile(live, 'whole\n');
  const appended = appendingWriter(stingyHandle(await open(live, 'a'), 4, 5), 6);
  await t.rejects(appended.write(Buffer.from('cut short\n')), { code: 'ENOSPC' });
  t.equal((await readFile(live, 'utf8')).length, 11, 'part of the chunk reached the file');
  await appended.abandon();
  t.equal(await readFile(live, 'utf8'), 'whole\n', 'cut back to what readers saw');
});

t.test('manifests: written whole, read back, and unreadable ones ignored', async (t) => {
  const dir = await cacheDir(t);
  const cache = await DiskCache.open(dir, KEY, 1 << 20);
  t.equal(await cache.readManifest(REF, DAY), undefined, 'none yet');
  const manifest = { knownThroughMs: Date.UTC(2026, 10, 26), hours: { '9': 12, '10': 30 } };
  await cache.writeManifest(REF, DAY, manifest);
  t.same(await cache.readManifest(REF, DAY), manifest);
  t.same(await filesUnder(dir), [`${KEY}/shop/web-1/app/${DAY}/manifest.json`], 'no temporary file left');
  await writeFile(join(dir, KEY, 'shop/web-1/app', DAY, 'manifest.json'), '{"knownThrough');
  t.equal(await cache.readManifest(REF, DAY), undefined, 'a torn manifest counts as none');
});

t.test('at open, temporary files a crash left are removed once old, and whole files are indexed', async (t) => {
  const dir = await cacheDir(t);
  const dayDir = join(dir, KEY, 'shop/web-1/app', DAY);
  await mkdir(dayDir, { recursive: true });
  await writeFile(join(dayDir, '09.log'), 'x'.repeat(100));
  await writeFile(join(dayDir, '10.log'), 'y'.repeat(50));
  await writeFile(join(dayDir, '.11.log.aaaaaaaaaaaa.partial'), 'old litter');
  await writeFile(join(dayDir, '.12.log.bbbbbbbbbbbb.partial'), 'still being written');
  const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
  await utimes(join(dayDir, '.11.log.aaaaaaaaaaaa.partial'), elevenMinutesAgo, elevenMinutesAgo);

  const cache = await DiskCache.open(dir, KEY, 1 << 20);
  t.same(
    await readdir(dayDir).then((names) => names.sort()),
    ['.12.log.bbbbbbbbbbbb.partial', '09.log', '10.log'],
    'an old temporary file goes; one another process may still write stays',
  );
  t.equal(cache.bytesUsed, 150, 'the day counts its whole files');
});

/** A process writing an hour file into the cache at `dir`, its temporary file open; see cache-writer.ts. */
async function startWriter(t: Test, dir: string, hour: number): Promise<ChildProcess> {
  const [program = '', ...args] = nodeCommand([
    resolve(import.meta.dirname, 'support/cache-writer.ts'),
    dir,
    KEY,
    String(hour),
  ]);
  const child = spawn(program, args, { env: childEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolveWriting, reject) => {
    child.stdout?.on('data', (data: Buffer) => data.toString().includes('writing') && resolveWriting());
    child.once('exit', (code) => reject(new Error(`the writer exited with ${code}`)));
  });
  return child;
}

async function exitOf(child: ChildProcess, signal?: NodeJS.Signals): Promise<void> {
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  if (signal) child.kill(signal);
  await exited;
}

const partials = async (dir: string) => (await filesUnder(dir)).filter((path) => path.endsWith('.partial'));

t.test(
  "temporary files: a dead process's go at once, a running one's stay, a closing one removes its own",
  async (t) => {
    const dir = await cacheDir(t);
    const killed = await startWriter(t, dir, 9);
    const running = await startWriter(t, dir, 10);
    const closing = await startWriter(t, dir, 11);
    t.equal((await partials(dir)).length, 3, 'three writers, three temporary files');
    await exitOf(killed, 'SIGKILL');

    const cache = await DiskCache.open(dir, KEY, 1 << 20);
    const left = await partials(dir);
    t.equal(left.length, 2, "the killed writer's file is gone, however new");
    t.notOk(left.some((path) => /\.09\.log\./.test(path)));

    closing.stdin?.write('close\n');
    await exitOf(closing);
    t.match(await partials(dir), [/\.10\.log\./], 'a process that closes its cache leaves nothing behind');

    const mine = await cache.createHour({ ref: REF, day: DAY, hour: 12 });
    await mine.write(Buffer.from('mine'));
    await exitOf(running, 'SIGKILL');
    await DiskCache.open(dir, KEY, 1 << 20);
    t.match(await partials(dir), [/\.12\.log\./], "another process opening the cache keeps this running one's file");
    await cache.close();
    t.same(await partials(dir), [], 'closed: its own temporary file is removed');
    await t.rejects(cache.createHour({ ref: REF, day: DAY, hour: 13 }), /closed/, 'and it makes no new one');
  },
);

t.test('the bound: least recently used days are evicted, listeners told, their files removed', async (t) => {
  const dir = await cacheDir(t);
  const cache = await DiskCache.open(dir, KEY, 1000);
  const evicted: string[] = [];
  const stop = cache.onEviction((key) => evicted.push(key));
  const days = ['2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24'];
  for (const day of days) await writeHour(cache, hourId(0, day), 'z'.repeat(400));

  cache.recordDay(REF, days[0] ?? '', 400);
  cache.recordDay(REF, days[1] ?? '', 400);
  cache.touchDay(REF, days[0] ?? '');
  cache.recordDay(REF, days[2] ?? '', 400);
  t.same(evicted, [dayKey(REF, days[1] ?? '')], 'the day used least recently goes, not the oldest recorded');
  t.equal(cache.bytesUsed, 800);

  stop();
  cache.recordDay(REF, days[3] ?? '', 400);
  t.equal(evicted.length, 1, 'a listener that stopped is not told');
  for (let waited = 0; (await filesUnder(dir)).length > 2 && waited < 2000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.same(
    await filesUnder(dir),
    [`${KEY}/shop/web-1/app/2026-11-23/00.log`, `${KEY}/shop/web-1/app/2026-11-24/00.log`],
    'evicted days are removed from disk',
  );
});

t.test('a day larger than the whole bound is kept until the next day comes', async (t) => {
  const dir = await cacheDir(t);
  const cache = await DiskCache.open(dir, KEY, 1000);
  const evicted: string[] = [];
  cache.onEviction((key) => evicted.push(key));
  cache.recordDay(REF, '2026-11-24', 5000);
  t.equal(cache.bytesUsed, 1000, 'it counts as the bound');
  t.same(evicted, []);
  cache.recordDay(REF, '2026-11-25', 10);
  t.same(evicted, [dayKey(REF, '2026-11-24')]);
  t.equal(cache.bytesUsed, 10);
});
