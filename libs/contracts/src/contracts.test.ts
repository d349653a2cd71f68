import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DecodeError } from '@canopy/errors';
import { describe, expect, it } from 'vitest';
import {
  SCHEMA_VERSIONS,
  SingleObjectCodec,
  codecs,
  guidFromString,
  guidToString,
  sampleMessages,
  schemaRegistry,
  sourceAnchorOf,
  type AdObjectEvent,
  type SchemaName,
} from './index.js';

const GOLDEN = new URL('../golden/', import.meta.url);
const update = process.env.UPDATE_GOLDEN === '1';

/** The sample value of each schema, in the shape of each version (older versions lack new fields). */
function sampleFor(name: SchemaName, version: number): unknown {
  const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof typeof sampleMessages;
  const value = sampleMessages[key]() as unknown as Record<string, unknown>;
  if (name === 'ad-object-event' && version === 1) {
    const { origin: _o, cycleId: _c, cycleDeletes: _d, ...v1 } = value;
    return v1;
  }
  if ((name === 'ad-object-event' && version === 2) || (name === 'entra-operation' && version === 1)) {
    const { cycleDeletes: _d, ...older } = value;
    return older;
  }
  return value;
}

describe('golden bytes: every schema version encodes exactly as checked in', () => {
  for (const [name, versions] of Object.entries(SCHEMA_VERSIONS) as [SchemaName, readonly number[]][]) {
    for (const version of versions) {
      it(`${name} v${version}`, () => {
        const codec = new SingleObjectCodec<unknown>(name, version);
        const bytes = codec.encode(sampleFor(name, version));
        const file = new URL(`${name}.v${version}.bin`, GOLDEN);
        if (update || !existsSync(file)) {
          if (!update) throw new Error(`golden file ${file.pathname} missing: run with UPDATE_GOLDEN=1 and review`);
          writeFileSync(file, bytes);
        }
        expect(bytes.toString('hex')).toBe(readFileSync(file).toString('hex'));
        // Header: marker, then this version's fingerprint.
        expect(bytes.subarray(0, 2).toString('hex')).toBe('c301');
        expect(bytes.subarray(2, 10)).toEqual(codec.schema.fingerprint);
      });
    }
  }
});

describe('round trips with the latest schema', () => {
  for (const [key, codec] of Object.entries(codecs)) {
    it(key, () => {
      const value = sampleMessages[key as keyof typeof sampleMessages]();
      expect(codec.decode(codec.encode(value as never))).toEqual(value);
    });
  }
});

describe('schema evolution', () => {
  it('bytes written with ad-object-event v1 are read by v2 with defaults filled', () => {
    const v1Bytes = readFileSync(new URL('ad-object-event.v1.bin', GOLDEN));
    const event = codecs.adObjectEvent.decode(v1Bytes);
    expect(codecs.adObjectEvent.schema.version).toBe(3);
    expect(event.origin).toBe('DELTA');
    expect(event.cycleId).toBeNull();
    expect(event.cycleDeletes).toBe(0);
    expect(event.dn).toBe(sampleMessages.adObjectEvent().dn);
    expect(event.binaryAttributes.objectsid![0]).toEqual(Buffer.from('010500000000000515000000', 'hex'));
  });

  it('bytes written with ad-object-event v2 and entra-operation v1 are read with cycleDeletes 0', () => {
    const event = codecs.adObjectEvent.decode(readFileSync(new URL('ad-object-event.v2.bin', GOLDEN)));
    expect(event.cycleId).toBe('cycle-42');
    expect(event.cycleDeletes).toBe(0);
    const op = codecs.entraOperation.decode(readFileSync(new URL('entra-operation.v1.bin', GOLDEN)));
    expect(codecs.entraOperation.schema.version).toBe(2);
    expect(op.cycleDeletes).toBe(0);
    expect(op.opId).toBe('op-1');
  });

  it('a v1 reader can read what v1 wrote, and the registry knows every fingerprint', () => {
    const v1 = new SingleObjectCodec<Omit<AdObjectEvent, 'origin' | 'cycleId'>>('ad-object-event', 1);
    const fps = schemaRegistry.all().filter((s) => s.name === 'ad-object-event').map((s) => s.fingerprint.toString('hex'));
    expect(new Set(fps).size).toBe(3);
    expect(v1.decode(readFileSync(new URL('ad-object-event.v1.bin', GOLDEN))).forest).toBe('corp.example.test');
  });
});

describe('decode errors are typed and permanent, never crashes', () => {
  const good = codecs.entraOperation.encode(sampleMessages.entraOperation());

  function decodeError(bytes: Buffer | null): DecodeError {
    try {
      codecs.entraOperation.decode(bytes);
    } catch (err) {
      expect(err).toBeInstanceOf(DecodeError);
      return err as DecodeError;
    }
    throw new Error('decode did not fail');
  }

  it('unknown fingerprint', () => {
    const bytes = Buffer.from(good);
    bytes.writeBigUInt64LE(0x1234n, 2);
    const err = decodeError(bytes);
    expect(err.type).toBe('Contracts.UnknownFingerprint');
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/unknown schema fingerprint 3412000000000000/);
  });

  it('truncated body', () => {
    const err = decodeError(good.subarray(0, good.length - 5));
    expect(err.type).toBe('Contracts.CorruptBody');
    expect(err.message).toMatch(/corrupt body/);
  });

  it('truncated header, empty and null messages', () => {
    expect(decodeError(good.subarray(0, 6)).type).toBe('Contracts.Truncated');
    expect(decodeError(Buffer.alloc(0)).type).toBe('Contracts.Truncated');
    expect(decodeError(null).type).toBe('Contracts.Truncated');
  });

  it('not single-object encoding', () => {
    expect(decodeError(Buffer.from('{"json":"not avro"}')).type).toBe('Contracts.NotSingleObject');
  });

  it('a message of another schema', () => {
    const err = decodeError(codecs.syncResult.encode(sampleMessages.syncResult()));
    expect(err.type).toBe('Contracts.WrongSchema');
  });

  it('random garbage after a valid header never throws anything but DecodeError', () => {
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.concat([good.subarray(0, 10), Buffer.from(Array.from({ length: i }, (_, j) => (j * 37 + i) & 0xff))]);
      try {
        codecs.entraOperation.decode(junk);
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
      }
    }
  });

  it('encoding an invalid value names the field', () => {
    const bad = { ...sampleMessages.entraOperation(), targetType: 'PRINTER' };
    expect(() => codecs.entraOperation.encode(bad as never)).toThrow(/targetType/);
  });
});

describe('GUIDs and anchors', () => {
  it('uses AD byte order', () => {
    const bytes = guidFromString('6f9619ff-8b86-d011-b42d-00cf4fc964ff');
    expect(bytes.toString('hex')).toBe('ff19966f868b11d0b42d00cf4fc964ff');
    expect(guidToString(bytes)).toBe('6f9619ff-8b86-d011-b42d-00cf4fc964ff');
  });

  it('prefers ms-DS-ConsistencyGuid as source anchor', () => {
    const obj = guidFromString('6f9619ff-8b86-d011-b42d-00cf4fc964ff');
    const cons = guidFromString('00000000-0000-0000-0000-000000000001');
    expect(sourceAnchorOf(obj)).toBe('/xmWb4aLEdC0LQDPT8lk/w==');
    expect(sourceAnchorOf(obj, cons)).toBe(cons.toString('base64'));
    expect(sourceAnchorOf(obj, Buffer.alloc(3))).toBe(obj.toString('base64'));
  });
});
