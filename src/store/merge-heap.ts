// A binary min-heap: the k-way merge of a workload's pods picks the least head in O(log k), not by
// looking at every pod for every row (a DaemonSet has a pod per node).

export class MergeHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  /** The least item; the heap must not be empty. */
  get least(): T {
    return this.items[0]!;
  }

  push(item: T): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  /** The least item changed (it was advanced): puts it back in its place. */
  leastChanged(): void {
    this.siftDown(0);
  }

  /** Removes the least item. */
  popLeast(): void {
    const last = this.items.pop()!;
    if (this.items.length === 0) return;
    this.items[0] = last;
    this.siftDown(0);
  }

  private siftUp(at: number): void {
    const { items } = this;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.compare(items[at]!, items[parent]!) >= 0) return;
      [items[at], items[parent]] = [items[parent]!, items[at]!];
      at = parent;
    }
  }

  private siftDown(at: number): void {
    const { items } = this;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= items.length) return;
      const right = left + 1;
      const child = right < items.length && this.compare(items[right]!, items[left]!) < 0 ? right : left;
      if (this.compare(items[child]!, items[at]!) >= 0) return;
      [items[at], items[child]] = [items[child]!, items[at]!];
      at = child;
    }
  }
}
