import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { encodeConfigDocument, publishConfigDocuments } from '@canopy/central-config';
import { TOPICS, adObjectsTopic, codecs, guidToString } from '@canopy/contracts';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { userEvent } from '@canopy/transform-batch';
import { spawnService, stackEnv, testNamespace, waitFor, type SpawnedService } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Integration: a transformer process exporting OTLP/HTTP traces to a receiver in this test.
const ns = testNamespace('transformer-trace');
const forest = `trace-${randomUUID().slice(0, 6)}.example.test`;
const log = createLogger({ name: 'trace-test', level: 'warn' });
const received: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string }> = [];
let server: Server;
let kafka: KafkaClient;
let transformer: SpawnedService | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      try {
        const doc = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: typeof received }> }> };
        for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
      } catch {
        // not JSON: ignore
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const env = stackEnv({}, ns);
  kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: env.CANOPY_KAFKA__BROKERS, namespace: ns }), log);
  await kafka.admin().ensureTopics([
    { name: TOPICS.config.name, partitions: 1, config: TOPICS.config.config },
    { name: adObjectsTopic(forest), partitions: 1 },
    { name: TOPICS.entraOps.name, partitions: 1 },
    { name: TOPICS.syncResults.name, partitions: 1 },
    { name: TOPICS.deadLetters.name, partitions: 1 },
  ]);
  const producer = await kafka.producer();
  await publishConfigDocuments(producer, [
    encodeConfigDocument({ kind: 'GLOBAL', body: { tenant: { id: 't', initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: [forest] }, graph: { clientId: 'c' } } }, 1, 'test'),
    encodeConfigDocument({ kind: 'FOREST', body: { name: forest, connection: { url: 'ldaps://127.0.0.1:636' }, domains: [{ dnsName: forest }] } }, 2, 'test'),
  ]);
  transformer = await spawnService('transformer', stackEnv({ CANOPY_TOPIC_REFRESH_MS: '1000', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }, ns));
});

afterAll(async () => {
  if (transformer) expect(await transformer.stop()).toBe(0);
  await kafka?.close();
  server?.close();
});

describe('traces across Kafka', () => {
  it("the transformer's span continues the reader's trace, and the op carries it on", async () => {
    const traceId = randomUUID().replace(/-/g, '');
    const readerSpan = randomUUID().replace(/-/g, '').slice(0, 16);
    const event = userEvent(forest, 'Trace Me');
    const producer = await kafka.producer();
    await producer.send(adObjectsTopic(forest), [
      { key: guidToString(event.objectGuid), value: codecs.adObjectEvent.encode(event), headers: { traceparent: `00-${traceId}-${readerSpan}-01` } },
    ]);
    const span = await waitFor('exported span', () => received.find((s) => s.traceId === traceId), { timeoutMs: 45_000 });
    expect(span.name).toBe('transform');
    expect(span.parentSpanId).toBe(readerSpan);
    let opTraceparent: string | undefined;
    await kafka.readToEnd(TOPICS.entraOps.name, (m) => {
      opTraceparent = m.headers.traceparent?.toString();
    });
    expect(opTraceparent).toBe(`00-${traceId}-${span.spanId}-01`);
  }, 90_000);
});
