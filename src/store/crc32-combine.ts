// The CRC-32 of two byte strings one after the other, from the CRC-32 of each and the second's
// length (zlib's crc32_combine, which Node does not expose): a file checksummed block by block
// gets the checksum of the whole without its bytes being run through CRC-32 a second time.

const POLYNOMIAL = 0xedb88320;
const BITS = 32;

/** The GF(2) matrix `matrix` times the vector `vector`. */
function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let row = 0, bits = vector >>> 0; bits !== 0; row++, bits >>>= 1) if (bits & 1) sum ^= matrix[row]!;
  return sum >>> 0;
}

function square(target: Uint32Array, matrix: Uint32Array): void {
  for (let row = 0; row < BITS; row++) target[row] = times(matrix, matrix[row]!);
}

/** The CRC-32 of A then B, from the CRC-32 of A, that of B and the length of B in bytes. */
export function crc32Combine(first: number, second: number, secondLength: number): number {
  if (secondLength <= 0) return first >>> 0;
  const even = new Uint32Array(BITS);
  // The operator for one zero bit, then two, then four.
  const odd = new Uint32Array(BITS);
  odd[0] = POLYNOMIAL;
  for (let row = 1; row < BITS; row++) odd[row] = 2 ** (row - 1);
  square(even, odd);
  square(odd, even);
  // Applies the operator for each set bit of the length in bytes, squaring it for the next bit.
  let crc = first >>> 0;
  for (let length = secondLength; length > 0;) {
    square(even, odd);
    if (length % 2 === 1) crc = times(even, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
    square(odd, even);
    if (length % 2 === 1) crc = times(odd, crc);
    length = Math.floor(length / 2);
  }
  return (crc ^ second) >>> 0;
}
