import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const RULE = '@nx/enforce-module-boundaries';

/** Lint a virtual file placed at `filePath` and return the boundary rule's messages. */
async function boundaryErrors(filePath: string, code: string, rules = [RULE]): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, filePath) });
  return result!.messages.filter((m) => rules.includes(m.ruleId ?? '')).map((m) => m.message);
}

describe('Nx module boundaries (lint)', () => {
  beforeAll(() => {
    // The rule needs Nx's project graph; compute it the way `nx lint` would.
    execFileSync(process.execPath, [resolve(ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
  }, 60_000);

  it('allows an app to use shared libs through their index (control case)', async () => {
    expect(
      await boundaryErrors('apps/transformer/src/probe.ts', "import { codecs } from '@canopy/contracts';\nexport const c = codecs;\n"),
    ).toEqual([]);
  });

  it("fails when an app imports another app's internals by relative path", async () => {
    const errors = await boundaryErrors(
      'apps/transformer/src/probe.ts',
      "import { GraphWriterModule } from '../../graph-writer/src/graph-writer.module.js';\nexport const m = GraphWriterModule;\n",
    );
    expect(errors.join('\n')).toMatch(/relative or absolute path|Imports of apps are forbidden|not allowed/i);
  });

  it('fails when an app imports another app by package name', async () => {
    const errors = await boundaryErrors(
      'apps/transformer/src/probe.ts',
      "import { GraphWriterModule } from '@canopy/graph-writer';\nexport const m = GraphWriterModule;\n",
    );
    expect(errors.join('\n')).toMatch(/Imports of apps are forbidden/);
  });

  it('fails when a util lib depends on a feature lib (type constraint)', async () => {
    const errors = await boundaryErrors(
      'libs/contracts/src/probe.ts',
      "import { Readiness } from '@canopy/service-runtime';\nexport const r = Readiness;\n",
    );
    expect(errors.join('\n')).toMatch(/tagged with "type:util" can only depend on libs tagged with "type:util"/);
  });

  it("fails when a lib is imported through a deep path instead of its index", async () => {
    const errors = await boundaryErrors(
      'apps/transformer/src/probe.ts',
      "import { crc64Avro } from '@canopy/contracts/src/avro/rabin.js';\nexport const f = crc64Avro;\n",
      [RULE, 'no-restricted-imports'],
    );
    expect(errors.join('\n')).toMatch(/only through its index/);
  });
});
