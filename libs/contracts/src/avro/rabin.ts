/**
 * CRC-64-AVRO (Rabin) fingerprint, as defined by the Avro specification for schema fingerprints
 * and used by single-object encoding.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) {
      fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
    }
    table.push(fp);
  }
  return table;
})();

/** The 64-bit fingerprint of `bytes` as an unsigned bigint. */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) {
    fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)]!;
  }
  return fp;
}

/** The fingerprint as the 8 little-endian bytes single-object encoding writes. */
export function crc64AvroLE(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(crc64Avro(bytes));
  return out;
}
