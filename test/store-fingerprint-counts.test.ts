// FingerprintCounts against a Map of the same strings: random sets, increments and decrements to 0
// over enough distinct strings that the table grows several times, with tombstones in its chains.
import t from 'tap';
import { FingerprintCounts, FingerprintList, fingerprintOf } from '../src/store/fingerprint-counts.js';

/** A small deterministic generator, so that a failure can be replayed. */
function randoms(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function fingerprint(text: string): [number, number] {
  const out = new Uint32Array(2);
  fingerprintOf(text, out);
  return [out[0]!, out[1]!];
}

t.test('counts as a Map of the strings does, through growth and counts back to 0', async (t) => {
  const random = randoms(7);
  const counts = new FingerprintCounts();
  const model = new Map<string, number>();
  const identity = (n: number) => JSON.stringify([String(1_764_662_400_000_000 + n), `id-${n}`, 'stdout', null, 0]);
  let mismatches = 0;
  for (let step = 0; step < 200_000; step++) {
    const text = identity(Math.floor(random() * 40_000));
    const [high, low] = fingerprint(text);
    const roll = random();
    if (roll < 0.5) {
      const count = counts.increment(high, low);
      model.set(text, (model.get(text) ?? 0) + 1);
      if (count !== model.get(text)) mismatches++;
    } else if (roll < 0.8) {
      const left = Math.max(0, (model.get(text) ?? 0) - 1);
      counts.set(high, low, left);
      if (left === 0) model.delete(text);
      else model.set(text, left);
    } else if (counts.get(high, low) !== (model.get(text) ?? 0)) {
      mismatches++;
    }
  }
  for (const [text, count] of model) if (counts.get(...fingerprint(text)) !== count) mismatches++;
  t.equal(mismatches, 0, 'every count read back is the model’s');
  t.ok(model.size > 10_000, `the table held ${model.size} strings at the end`);
});

t.test('a cleared table counts nothing', async (t) => {
  const counts = new FingerprintCounts();
  for (let n = 0; n < 5_000; n++) counts.increment(...fingerprint(`entry ${n}`));
  t.equal(counts.get(...fingerprint('entry 42')), 1);
  counts.clear();
  t.equal(counts.get(...fingerprint('entry 42')), 0);
});

t.test('fingerprints of a million distinct identities do not collide', async (t) => {
  const seen = new Set<string>();
  for (let n = 0; n < 1_000_000; n++) {
    const [high, low] = fingerprint(
      JSON.stringify([String(1_764_662_400_000_000 + (n >> 2)), `x${n}`, 'stdout', null, 0]),
    );
    seen.add(`${high}:${low}`);
  }
  t.equal(seen.size, 1_000_000);
  t.not(fingerprint('a').join(), fingerprint('b').join());
  t.not(fingerprint('ab').join(), fingerprint('ba').join(), 'order matters');
});

t.test('a list gives back what was pushed, in order', async (t) => {
  const list = new FingerprintList();
  for (let n = 0; n < 3_000; n++) list.push(n, 0xffff_ffff - n);
  const back: number[] = [];
  list.forEach((high, low) => back.push(high, 0xffff_ffff - low));
  t.same(
    back,
    Array.from({ length: 6_000 }, (_, i) => i >> 1),
  );
  list.clear();
  let left = 0;
  list.forEach(() => left++);
  t.equal(left, 0);
});
