// Remembers the results of expensive lookups for as long as each result says it stays true, and
// lets concurrent callers of the same missing key share one computation.

interface Remembered<V> {
  value: V;
  /** Epoch ms after which the value must be recomputed; Infinity for values that never change. */
  expiresAtMs: number;
  computedAtMs: number;
}

export class Memo<V> {
  private readonly values = new Map<string, Remembered<V>>();
  private readonly inflight = new Map<string, Promise<V>>();

  constructor(private readonly now: () => number) {}

  /** Drops the value of `key` if it was computed more than `ms` ago, so the next `get` computes it again. */
  forgetIfOlderThan(key: string, ms: number): void {
    const known = this.values.get(key);
    if (known && this.now() - known.computedAtMs > ms) this.values.delete(key);
  }

  /** `compute` returns the value and how long it stays valid (ms; Infinity for good). */
  get(key: string, compute: () => Promise<{ value: V; validForMs: number }>): Promise<V> {
    const known = this.values.get(key);
    if (known && known.expiresAtMs > this.now()) return Promise.resolve(known.value);
    const running = this.inflight.get(key);
    if (running) return running;
    const started = this.now();
    const promise = compute()
      .then(({ value, validForMs }) => {
        this.values.set(key, { value, expiresAtMs: started + validForMs, computedAtMs: started });
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }
}
