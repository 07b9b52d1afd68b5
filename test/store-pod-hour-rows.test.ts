// The merge of a workload's hour reads its pods' pages through one ReadQueue: one read at a time,
// in the order asked, and nothing more read once a read failed.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReadQueue } from '../src/store/pod-hour-rows.js';

t.test('reads run one at a time, in the order asked', async (t) => {
  const queue = new ReadQueue();
  let inFlight = 0;
  let most = 0;
  const order: number[] = [];
  const reads = [30, 5, 20, 1, 10].map((ms, n) =>
    queue.run(async () => {
      most = Math.max(most, ++inFlight);
      await sleep(ms);
      order.push(n);
      inFlight--;
      return n;
    }),
  );
  t.same(await Promise.all(reads), [0, 1, 2, 3, 4]);
  t.same(order, [0, 1, 2, 3, 4]);
  t.equal(most, 1);
});

t.test('once a read failed, the reads waiting fail with it and read nothing', async (t) => {
  const queue = new ReadQueue();
  const ran: string[] = [];
  const first = queue.run(async () => {
    ran.push('first');
    await sleep(5);
    throw new Error('stream reset');
  });
  const second = queue.run(async () => void ran.push('second'));
  await t.rejects(first, /stream reset/);
  await t.rejects(second, /stream reset/);
  await t.rejects(
    queue.run(async () => void ran.push('later')),
    /stream reset/,
  );
  t.same(ran, ['first']);
});
