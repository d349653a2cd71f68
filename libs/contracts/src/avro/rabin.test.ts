import { describe, expect, it } from 'vitest';
import { crc64Avro } from './rabin.js';

// Vectors from the Avro project's schema fingerprint tests (CRC-64-AVRO of the canonical form,
// printed as a signed 64-bit integer).
const VECTORS: Array<[string, bigint]> = [
  ['"null"', 7195948357588979594n],
  ['"boolean"', -6970731678124411036n],
  ['"int"', 8247732601305521295n],
  ['"long"', -3434872931120570953n],
  ['"string"', -8142146995180207161n],
  ['"bytes"', 5746618253357095269n],
];

describe('CRC-64-AVRO', () => {
  it.each(VECTORS)('fingerprints %s as the Avro reference does', (canonical, expected) => {
    expect(BigInt.asIntN(64, crc64Avro(Buffer.from(canonical)))).toBe(expected);
  });
});
