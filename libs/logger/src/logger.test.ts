import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './index.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('writes JSON with the service name', () => {
    const { lines, stream } = capture();
    createLogger({ name: 'svc', destination: stream }).info({ forest: 'corp' }, 'hello');
    const rec = JSON.parse(lines[0]!);
    expect(rec).toMatchObject({ service: 'svc', forest: 'corp', msg: 'hello', level: 'info' });
  });

  it('redacts secrets at any depth it knows', () => {
    const { lines, stream } = capture();
    createLogger({ name: 'svc', destination: stream }).info(
      { config: { ldap: { bindPassword: 'hunter2' }, graph: { clientSecret: 's3cr3t' } }, token: 'abc' },
      'cfg',
    );
    const text = lines.join('');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('"abc"');
    expect(text).toContain('[redacted]');
  });
});
