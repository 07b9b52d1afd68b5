// Byte sizes as users write them, with the units of GNU coreutils (du, df, dd): K, M, G, T and KiB,
// MiB, GiB, TiB (and Kubernetes' Ki, Mi, Gi, Ti) are powers of 1024; KB, MB, GB, TB are powers of 1000.
// `10G` is 10 GiB.

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(iB?|B)?|B)?$/i;
const POWERS: Record<string, number> = { K: 1, M: 2, G: 3, T: 4 };

export const MIB = 2 ** 20;

/** `10G`, `512MiB`, `5GB`, `1048576`: the number of bytes. */
export function parseByteSize(text: string): number {
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match) {
    throw new Error(
      `not a size: "${text}" (use e.g. 10G or 10GiB (2^30 bytes each), 10GB (10^9), or a number of bytes)`,
    );
  }
  const power = POWERS[(match[2] ?? '').toUpperCase()] ?? 0;
  const decimal = (match[3] ?? '').toUpperCase() === 'B';
  return Math.floor(Number(match[1]) * (decimal ? 1000 : 1024) ** power);
}

/**
 * A bare number is bytes. Below this, a bare number is taken for a size whose unit was left out
 * (`10` for 10G) and refused. A size written with its unit is taken as meant, however small: such a
 * cache evicts days it just wrote, so reads bill again (cache misses in .bqlogfs/stats).
 */
const MIN_BARE_CACHE_BYTES = 64 * MIB;

export function parseCacheSize(text: string): number {
  const bytes = parseByteSize(text);
  if (/^\s*\d+\s*$/.test(text) && bytes < MIN_BARE_CACHE_BYTES) {
    throw new Error(
      `${text} is ${bytes} bytes, too small: is a unit missing? A bare number must be at least ` +
        `${MIN_BARE_CACHE_BYTES / MIB}MiB (10G means 10 GiB; a smaller cache is written with its unit, such as 500M)`,
    );
  }
  return bytes;
}
