// MergeHeap, which picks the least head of a workload's k-way merge: items come out in order, also
// when the least one changes in place (a pod advanced to its next row) or leaves (a pod ended).
import t from 'tap';
import { MergeHeap } from '../src/store/merge-heap.js';

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

t.test('a k-way merge through the heap gives every value once, in order', async (t) => {
  const next = random(7);
  // 300 sorted lists of random lengths, some empty, with values shared between lists.
  const lists = Array.from({ length: 300 }, () =>
    Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 1_000)).sort((a, b) => a - b),
  );
  const heads = lists.map((values, list) => ({ list, values, at: 0 }));
  const heap = new MergeHeap<(typeof heads)[number]>((a, b) => a.values[a.at]! - b.values[b.at]! || a.list - b.list);
  for (const head of heads) if (head.values.length > 0) heap.push(head);
  const merged: Array<[number, number]> = [];
  while (heap.size > 0) {
    const head = heap.least;
    merged.push([head.values[head.at]!, head.list]);
    head.at++;
    if (head.at < head.values.length) heap.leastChanged();
    else heap.popLeast();
  }
  const expected = lists
    .flatMap((values, list) => values.map((value): [number, number] => [value, list]))
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  t.same(merged, expected, 'by value, ties by list, each value once');
});
