import { codecs } from '@canopy/contracts';
import type { IncomingMessage } from '@canopy/kafka';
import { rulesFromConfig } from '@canopy/sync-rules';
import { describe, expect, it } from 'vitest';
import { transformBatch } from './transform-batch.js';
import { userEvent } from './testing/test-events.js';

const forest = 'corp.example.test';
const rules = rulesFromConfig(
  forest,
  {
    mappings: {
      user: { mappings: [{ type: 'expression', target: 'jobTitle', expression: 'IIF([department]="Fail", Error("department Fail is refused"), [title])' }] },
    },
  },
  { initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: [forest] },
);

function msg(value: Buffer, offset: number): IncomingMessage {
  return { topic: `canopy.ad.objects.${forest}`, partition: 0, offset: String(offset), key: Buffer.from('k'), value, headers: {}, timestamp: 0 };
}

describe('transformBatch', () => {
  it('turns each message into exactly one op, result or dead letter, and one failure does not stop the rest', () => {
    const good = userEvent(forest, 'Zoë Ångström', { department: ['Sales'], title: ['Rep'] });
    const failing = userEvent(forest, 'Bad Apple', { department: ['Fail'] });
    const contact = { ...userEvent(forest, 'Ext Contact'), objectClass: 'CONTACT' as const };
    const out = transformBatch(
      [
        msg(codecs.adObjectEvent.encode(good), 1),
        msg(codecs.adObjectEvent.encode(failing), 2),
        msg(Buffer.from('{"not":"avro at all"}'), 3),
        msg(codecs.adObjectEvent.encode(contact), 4),
      ],
      rules,
      7,
    );
    expect(out.ops).toHaveLength(1);
    const op = codecs.entraOperation.decode(out.ops[0]!.value);
    expect(op).toMatchObject({ action: 'UPSERT', targetType: 'USER', configVersion: 7 });
    expect(op.properties.displayName).toBe('Zoë Ångström');
    expect(op.properties.jobTitle).toBe('Rep');
    expect(out.ops[0]!.key).toBe(op.sourceAnchor);
    expect(out.ops[0]!.headers?.['canopy-source-offset']).toBe('1');

    const results = out.results.map((r) => codecs.syncResult.decode(r.value));
    expect(results.map((r) => r.outcome).sort()).toEqual(['FAILED', 'FAILED', 'SKIPPED']);
    const mappingFailure = results.find((r) => r.error?.attribute === 'jobTitle')!;
    expect(mappingFailure.error!.message).toContain('department Fail is refused');
    expect(mappingFailure.error!.expression).toContain('IIF(');
    expect(results.find((r) => r.outcome === 'SKIPPED')!.reason).toMatch(/contact/i);
    expect(results.find((r) => r.error?.type === 'Contracts.NotSingleObject')).toBeDefined();

    // permanent failures go to the dead-letter topic with the original bytes, for replay after a fix
    const dead = out.deadLetters.map((d) => codecs.deadLetter.decode(d.value));
    expect(dead.map((d) => d.sourceOffset).sort()).toEqual([2, 3]);
    expect(dead.find((d) => d.sourceOffset === 3)!.value!.toString()).toBe('{"not":"avro at all"}');
  });
});

describe('oversized operations', () => {
  it('become a FAILED result and a dead letter instead of a record Kafka would refuse', () => {
    const huge = userEvent(forest, 'Huge Proxies', { proxyaddresses: Array.from({ length: 40_000 }, (_, i) => `smtp:a-rather-long-alias-number-${i}@corp.example.test`) });
    const out = transformBatch([msg(codecs.adObjectEvent.encode(huge), 1)], rules, 1);
    expect(out.ops).toHaveLength(0);
    const r = codecs.syncResult.decode(out.results[0]!.value);
    expect(r).toMatchObject({ outcome: 'FAILED', reason: 'operation too large' });
    expect(r.error!.message).toMatch(/over the 900000-byte limit/);
    expect(out.deadLetters).toHaveLength(1);
  });
});
