/**
 * A Kafka Metadata request (API key 3, version 1) over a plain socket: the health probe of the
 * stack. Written against the wire protocol on purpose: the only code allowed to import kafkajs is
 * @canopy/kafka, and a dev-tool health check should not depend on the client under test.
 * Metadata v1 is inside the range Kafka 4.x still serves (v0-v13).
 */
import { connect } from 'node:net';

export interface KafkaMetadata {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  controllerId: number;
  topics: string[];
}

function encodeRequest(correlationId: number, clientId: string): Buffer {
  const client = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4);
  let o = 0;
  o = body.writeInt16BE(3, o); // api_key: Metadata
  o = body.writeInt16BE(1, o); // api_version
  o = body.writeInt32BE(correlationId, o);
  o = body.writeInt16BE(client.length, o);
  o += client.copy(body, o);
  body.writeInt32BE(-1, o); // topics: null = all
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function decodeResponse(buf: Buffer, correlationId: number): KafkaMetadata {
  let o = 0;
  const i16 = () => ((o += 2), buf.readInt16BE(o - 2));
  const i32 = () => ((o += 4), buf.readInt32BE(o - 4));
  const str = () => {
    const len = i16();
    if (len < 0) return null;
    o += len;
    return buf.toString('utf8', o - len, o);
  };
  if (i32() !== correlationId) throw new Error('Kafka metadata: correlation id mismatch');
  const brokers: KafkaMetadata['brokers'] = [];
  for (let n = i32(); n > 0; n--) {
    const nodeId = i32();
    const host = str() ?? '';
    const port = i32();
    str(); // rack
    brokers.push({ nodeId, host, port });
  }
  const controllerId = i32();
  const topics: string[] = [];
  for (let n = i32(); n > 0; n--) {
    i16(); // error_code
    const name = str() ?? '';
    o += 1; // is_internal
    for (let p = i32(); p > 0; p--) {
      i16();
      i32();
      i32();
      const replicas = i32();
      o += 4 * replicas;
      const isr = i32();
      o += 4 * isr;
    }
    topics.push(name);
  }
  return { brokers, controllerId, topics };
}

export function kafkaMetadata(broker: string, timeoutMs = 5000): Promise<KafkaMetadata> {
  const idx = broker.lastIndexOf(':');
  const host = broker.slice(0, idx);
  const port = Number(broker.slice(idx + 1));
  const correlationId = Math.floor(Math.random() * 0x7fffffff);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`Kafka metadata: no answer from ${broker} in ${timeoutMs} ms`)),
    );
    socket.on('error', fail);
    socket.on('connect', () => socket.write(encodeRequest(correlationId, 'canopy-stack-probe')));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4) return;
      const size = data.readInt32BE(0);
      if (data.length < 4 + size) return;
      socket.end();
      try {
        resolve(decodeResponse(data.subarray(4, 4 + size), correlationId));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
