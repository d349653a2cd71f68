import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isFromKafkajs } from './kafkajs-timeout-warning.js';

describe('kafkajs negative-timeout warning filter', () => {
  it('recognises kafkajs frames only', () => {
    expect(isFromKafkajs('Error\n    at RequestQueue.scheduleCheckPendingRequests (/app/node_modules/kafkajs/src/network/requestQueue/index.js:317:37)')).toBe(true);
    expect(isFromKafkajs('Error\n    at Object.<anonymous> (/app/dist/main.js:1:1)')).toBe(false);
    expect(isFromKafkajs(undefined)).toBe(false);
  });

  // Node prints TimeoutNegativeWarning once per process, so each case runs in its own process.
  const filter = fileURLToPath(new URL('./kafkajs-timeout-warning.ts', import.meta.url));
  /** Runs `body` in a real Node 24 process (which strips the .ts module's types) with the filter installed. */
  function run(body: string): string {
    const script = `
      import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
      import { createRequire } from 'node:module';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const { silenceKafkajsNegativeTimeoutWarning } = await import(${JSON.stringify(filter)});
      // A module under a kafkajs/src path stands in for kafkajs's request queue.
      const dir = mkdtempSync(join(tmpdir(), 'kw-'));
      mkdirSync(join(dir, 'kafkajs', 'src'), { recursive: true });
      writeFileSync(join(dir, 'kafkajs', 'src', 'q.js'), 'module.exports = () => clearTimeout(setTimeout(() => {}, 0 - Date.now()));');
      const kafkajsQueue = createRequire(import.meta.url)(join(dir, 'kafkajs', 'src', 'q.js'));
      silenceKafkajsNegativeTimeoutWarning();
      ${body}
    `;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    return res.stderr;
  }

  it('drops the warning when kafkajs sets the timeout; other warnings still print', () => {
    const stderr = run(`kafkajsQueue(); process.emitWarning('still here', 'CanopyTestWarning');`);
    expect(stderr).not.toMatch(/TimeoutNegativeWarning/);
    expect(stderr).toMatch(/CanopyTestWarning: still here/);
  });

  it('keeps the warning when anyone else sets a negative timeout', () => {
    expect(run(`clearTimeout(setTimeout(() => {}, -5));`)).toMatch(/TimeoutNegativeWarning: -5 is a negative number/);
  });
});
