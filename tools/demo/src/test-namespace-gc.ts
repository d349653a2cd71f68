/**
 * vitest globalSetup (after the stack's): removes the Kafka topics and Redis keys of test
 * namespaces whose test process has ended, before the run and after it, so that a long-lived
 * local stack (or a CI machine that keeps it) does not fill up run after run. Runs once per
 * vitest process however many projects use it. CANOPY_STACK_SKIP=1 skips it with the stack.
 */
import { readStackInfo } from '@canopy/stack';
import { collectTestNamespaces } from './namespace.js';

const flags = globalThis as { __canopyNamespaceGc?: { setup: boolean; teardown: boolean } };

async function collect(when: string): Promise<void> {
  try {
    const r = await collectTestNamespaces(readStackInfo());
    if (r.namespaces) process.stderr.write(`[stack] ${when}: removed ${r.namespaces} finished test namespace(s): ${r.topics} topics, ${r.keys} Redis keys\n`);
  } catch (err) {
    // Cleaning is a courtesy: a failure here must not fail the run; say it.
    process.stderr.write(`[stack] ${when}: could not remove finished test namespaces: ${(err as Error).message}\n`);
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const state = (flags.__canopyNamespaceGc ??= { setup: false, teardown: false });
  if (process.env.CANOPY_STACK_SKIP !== '1' && !state.setup) {
    state.setup = true;
    await collect('before the run');
  }
  return async () => {
    if (process.env.CANOPY_STACK_SKIP === '1' || state.teardown) return;
    state.teardown = true;
    await collect('after the run');
  };
}
