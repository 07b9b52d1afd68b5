// Counts of strings kept as 64-bit fingerprints in typed arrays, outside the JS heap: a live hour's
// file can hold a million entries, whose identities as JS strings in a Map (about 150 bytes each)
// outgrew the daemon's heap and killed it. Here an entry costs about 24 bytes. Two different strings
// share a fingerprint with a probability of about n² / 2^65 for n strings (3 × 10^-8 for a million).

const EMPTY = 0;
const MAX_LOAD = 0.7;
const INITIAL_CAPACITY = 1024;

/** The 64-bit fingerprint of a string, as two 32-bit halves (written into `out`). */
export function fingerprintOf(text: string, out: Uint32Array): void {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x9e3779b1);
    b = Math.imul(b ^ unit, 0x5f356495);
  }
  a ^= text.length;
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  a ^= Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
  b ^= Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  out[0] = a >>> 0;
  out[1] = b >>> 0;
}

/** A multiset of fingerprints: an open-addressing table with linear probing. */
export class FingerprintCounts {
  private high = new Uint32Array(INITIAL_CAPACITY);
  private low = new Uint32Array(INITIAL_CAPACITY);
  /** 0: a slot never used; otherwise the count plus one (a count may drop to 0 again). */
  private slots = new Uint32Array(INITIAL_CAPACITY);
  private used = 0;

  get(high: number, low: number): number {
    const slot = this.find(high, low);
    const state = this.slots[slot]!;
    return state === EMPTY ? 0 : state - 1;
  }

  set(high: number, low: number, count: number): void {
    let slot = this.find(high, low);
    if (this.slots[slot] === EMPTY) {
      if (count === 0) return;
      if (this.used + 1 > this.slots.length * MAX_LOAD) {
        this.grow();
        slot = this.find(high, low);
      }
      this.high[slot] = high;
      this.low[slot] = low;
      this.used++;
    }
    this.slots[slot] = count + 1;
  }

  /** Adds one to the count and returns it. */
  increment(high: number, low: number): number {
    const count = this.get(high, low) + 1;
    this.set(high, low, count);
    return count;
  }

  clear(): void {
    if (this.used === 0) return;
    this.high = new Uint32Array(INITIAL_CAPACITY);
    this.low = new Uint32Array(INITIAL_CAPACITY);
    this.slots = new Uint32Array(INITIAL_CAPACITY);
    this.used = 0;
  }

  /** The slot holding the fingerprint, or the empty slot where it would go. */
  private find(high: number, low: number): number {
    const mask = this.slots.length - 1;
    let slot = (low ^ Math.imul(high, 0x9e3779b1)) & mask;
    while (this.slots[slot] !== EMPTY && (this.high[slot] !== high || this.low[slot] !== low)) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  /** Twice the room, without the fingerprints whose count fell back to 0. */
  private grow(): void {
    const { high, low, slots } = this;
    this.high = new Uint32Array(slots.length * 2);
    this.low = new Uint32Array(slots.length * 2);
    this.slots = new Uint32Array(slots.length * 2);
    this.used = 0;
    for (let slot = 0; slot < slots.length; slot++) {
      const state = slots[slot]!;
      if (state > 1) {
        const at = this.find(high[slot]!, low[slot]!);
        this.high[at] = high[slot]!;
        this.low[at] = low[slot]!;
        this.slots[at] = state;
        this.used++;
      }
    }
  }
}

/** A list of fingerprints, in typed arrays. */
export class FingerprintList {
  private halves = new Uint32Array(2 * INITIAL_CAPACITY);
  private length = 0;

  push(high: number, low: number): void {
    if (2 * this.length + 2 > this.halves.length) {
      const larger = new Uint32Array(this.halves.length * 2);
      larger.set(this.halves);
      this.halves = larger;
    }
    this.halves[2 * this.length] = high;
    this.halves[2 * this.length + 1] = low;
    this.length++;
  }

  forEach(visit: (high: number, low: number) => void): void {
    for (let i = 0; i < this.length; i++) visit(this.halves[2 * i]!, this.halves[2 * i + 1]!);
  }

  clear(): void {
    this.halves = new Uint32Array(2 * INITIAL_CAPACITY);
    this.length = 0;
  }
}
