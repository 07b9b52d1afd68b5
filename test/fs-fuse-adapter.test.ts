// The FUSE adapter driven through its operations, without a mount, over the real tree and store on
// the fake warehouse: an open that outlasts the adapter's deadline is answered ETIMEDOUT, and when
// the tree's open completes after all, its handle is released, since the kernel, told the open
// failed, will never release it.
import { constants } from 'node:fs';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fuse from 'fuse-native';
import { pino } from 'pino';
import t from 'tap';
import { createFuse } from '../src/fs/fuse-adapter.js';
import type { ContainerRef } from '../src/model/log-path.js';
import { micros } from './support/fake-warehouse.js';
import { openTreeStack, YESTERDAY } from './support/tree-stack.js';

const app: ContainerRef = { namespace: 'shop', pod: 'web-1', container: 'app' };
const HOUR_PATH = `/shop/web-1/app/${YESTERDAY}/10.log`;
/** The adapter answers ETIMEDOUT a second before this (but never sooner than after a second). */
const OPERATION_TIMEOUT_MS = 1_500;

type LogLine = { msg?: string; handle?: number };

t.test('an open answered after its deadline is released', async (t) => {
  const stack = await openTreeStack(t, {
    entries: [
      {
        ...app,
        stream: 'stdout',
        timestamp: micros(`${YESTERDAY}T10:00:00Z`),
        insertId: 'a',
        textPayload: 'one line',
      },
    ],
  });
  const sweep = stack.fake.hold({ match: (query) => query.spec.kind === 'sweep' });
  const lines: LogLine[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as LogLine);
        done();
      },
    }),
  );
  const fuse = createFuse('/mountpoint-never-mounted', stack.tree, log, {
    uid: 1000,
    gid: 1000,
    fileMode: 0o444,
    allowOther: false,
    operationTimeoutMs: OPERATION_TIMEOUT_MS,
    entryTimeoutS: 1,
    attrTimeoutS: 0,
    allowPlaceholder: false,
    binding: { answersInterrupts: false, setsAttributeTimeouts: false },
  });
  const open = fuse.ops.open as (path: string, flags: number, cb: (code: number, handle?: number) => void) => void;
  const read = fuse.ops.read as (
    path: string,
    handle: number,
    buffer: Buffer,
    length: number,
    position: number,
    cb: (result: number) => void,
  ) => void;
  const buffer = Buffer.alloc(64);
  /** What a read of the file open as `handle` is answered: bytes read, or a negative errno. */
  const readAt = (handle: number) =>
    new Promise<number>((resolve) => read(HOUR_PATH, handle, buffer, buffer.length, 0, resolve));

  const answer = await new Promise<number>((resolve) => open(HOUR_PATH, constants.O_RDONLY, resolve));
  t.equal(answer, Fuse.ETIMEDOUT, 'the open is answered ETIMEDOUT while its sweep is held');
  t.equal(sweep.arrived, 1);

  sweep.open();
  let released: LogLine | undefined;
  for (let waited = 0; !released && waited < 10_000; waited += 20) {
    released = lines.find((line) => line.msg?.includes('answered after its deadline'));
    if (!released) await sleep(20);
  }
  t.ok(released, 'the late open is logged as released');
  const handle = released?.handle ?? 0;
  t.ok(handle > 0);
  t.equal(await readAt(handle), Fuse.EBADF, 'its handle is no longer open');

  const again = await new Promise<{ code: number; handle?: number }>((resolve) =>
    open(HOUR_PATH, constants.O_RDONLY, (code, handle) => resolve({ code, ...(handle !== undefined && { handle }) })),
  );
  t.equal(again.code, 0, 'the next open of the hour is answered');
  t.equal(await readAt(again.handle ?? 0), 'one line\n'.length);
  t.equal(buffer.subarray(0, 'one line\n'.length).toString(), 'one line\n');
});
