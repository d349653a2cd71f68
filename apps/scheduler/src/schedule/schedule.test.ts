import type { ConfigStore } from '@canopy/central-config';
import type { SyncResult } from '@canopy/contracts';
import { createLogger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';
import { describe, expect, it } from 'vitest';
import type { CommandBus, CommandRequest } from '../commands/command-bus.js';
import { FullSyncSchedule } from './full-sync-schedule.js';
import { QuarantineMonitor } from './quarantine-monitor.js';
import { REDIS_EPOCH_KEY, RedisLossMonitor } from './redis-loss-monitor.js';
import type { ReplayJob } from '../replay/replay.service.js';

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

describe('Redis loss', () => {
  it('replays every forest when the epoch key vanishes, not on the first start, and again after a failed replay', async () => {
    const redis = fakeRedis();
    const jobs = new Map<string, ReplayJob>();
    const started: string[] = [];
    const replay = {
      start: async (forest: string) => {
        const job = { id: `job-${jobs.size + 1}`, forest, status: 'running', error: null } as unknown as ReplayJob;
        jobs.set(job.id, job);
        started.push(forest);
        return job;
      },
      get: (id: string) => jobs.get(id)!,
    };
    const monitor = new RedisLossMonitor(redis, store({ a: { fullSyncInterval: 1 }, b: { fullSyncInterval: 1 } }), replay, log);
    expect(await monitor.tick()).toEqual([]); // first start: the key is set, nothing to rebuild
    expect(redis.data.get(REDIS_EPOCH_KEY)).toBeTruthy();
    expect(await monitor.tick()).toEqual([]);
    redis.data.clear(); // Redis restarted empty
    expect(await monitor.tick()).toEqual(['a', 'b']);
    expect(await monitor.tick()).toEqual([]); // running
    jobs.get('job-1')!.status = 'completed';
    jobs.get('job-2')!.status = 'failed';
    expect(await monitor.tick()).toEqual(['b']); // the failed one again
    jobs.get('job-3')!.status = 'completed';
    expect(await monitor.tick()).toEqual([]);
    expect(started).toEqual(['a', 'b', 'b']);
  });
});
