import type { ConfigStore } from '@canopy/central-config';
import type { SyncResult } from '@canopy/contracts';
import { createLogger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';
import { describe, expect, it } from 'vitest';
import type { CommandBus, CommandRequest } from '../commands/command-bus.js';
import { FullSyncSchedule } from './full-sync-schedule.js';
import { QuarantineMonitor } from './quarantine-monitor.js';

const log = createLogger({ name: 't', level: 'silent' });

/** Just enough of Redis for these two: GET, SET (with NX). */
function fakeRedis(): RedisClient & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: async (k: string) => data.get(k) ?? null,
    set: async (k: string, v: string, nx?: string) => {
      if (nx === 'NX' && data.has(k)) return null;
      data.set(k, v);
      return 'OK';
    },
  } as unknown as RedisClient & { data: Map<string, string> };
}

function fakeCommands(): CommandBus & { sent: CommandRequest[] } {
  const sent: CommandRequest[] = [];
  return { sent, send: async (r: CommandRequest) => void sent.push(r) } as unknown as CommandBus & { sent: CommandRequest[] };
}

function store(forests: Record<string, { fullSyncInterval: number; paused?: boolean }>, quarantine = { failureRate: 0.5, minOps: 10 }): ConfigStore {
  const map = new Map(Object.entries(forests).map(([name, f]) => [name, { name, paused: f.paused ?? false, schedule: { fullSyncInterval: f.fullSyncInterval } }]));
  return { snapshot: () => ({ version: 1, global: undefined, forests: map }), global: () => ({ quarantine }) } as unknown as ConfigStore;
}

describe('periodic full sync', () => {
  it('sends FULL_SYNC once a forest has gone a full interval without one, never to paused forests', async () => {
    let now = 1_000_000;
    const redis = fakeRedis();
    const commands = fakeCommands();
    const schedule = new FullSyncSchedule(store({ a: { fullSyncInterval: 60_000 }, b: { fullSyncInterval: 60_000, paused: true } }), redis, commands, log, () => now);
    expect(await schedule.tick()).toEqual([]); // first sight: the reader's first start is a full read
    now += 59_999;
    expect(await schedule.tick()).toEqual([]);
    now += 1;
    expect(await schedule.tick()).toEqual(['a']);
    expect(commands.sent).toEqual([{ command: 'FULL_SYNC', forest: 'a', issuedBy: 'scheduler (periodic full sync)' }]);
    expect(await schedule.tick()).toEqual([]);
  });
});

describe('quarantine', () => {
  const result = (forest: string, outcome: SyncResult['outcome'], stage: SyncResult['stage'] = 'WRITER') => ({ forest, outcome, stage }) as SyncResult;

  it('pauses and flags a forest whose writes fail beyond the rate, once', async () => {
    const redis = fakeRedis();
    const commands = fakeCommands();
    const monitor = new QuarantineMonitor(store({}), redis, commands, log);
    for (let i = 0; i < 5; i++) expect(await monitor.observe(result('f', 'CREATED'))).toBe(false);
    for (let i = 0; i < 4; i++) expect(await monitor.observe(result('f', 'FAILED'))).toBe(false);
    expect(await monitor.observe(result('f', 'FAILED', 'TRANSFORMER'))).toBe(false); // only writer outcomes count
    expect(await monitor.observe(result('f', 'FAILED'))).toBe(false); // 5 of 10: not beyond 50 %
    expect(await monitor.observe(result('f', 'FAILED'))).toBe(true); // 6 of the last 10
    expect(JSON.parse(redis.data.get('control:quarantine:f')!).reason).toMatch(/6 of the last 10 writes failed/);
    expect(commands.sent.map((c) => c.command)).toEqual(['QUARANTINE', 'PAUSE']);
    for (let i = 0; i < 20; i++) await monitor.observe(result('f', 'FAILED'));
    expect(commands.sent).toHaveLength(2); // flagged once until cleared
  });
});
