// Tiny runner: `node --experimental-transform-types --conditions=@canopy/source libs/sync-rules/bench/run.mjs [file.bench.ts]`
// (transform-types because other libs use TS parameter properties, which plain type stripping rejects).
// Node strips TypeScript types itself; this hook only maps the `.js` of relative imports (the
// ESM convention of the sources) to the `.ts` file that exists, so the sources run unbuilt.
import { registerHooks } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if ((specifier.startsWith('.') || specifier.startsWith('/')) && specifier.endsWith('.js') && context.parentURL) {
      const url = new URL(specifier, context.parentURL);
      if (!existsSync(fileURLToPath(url))) {
        const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
        if (existsSync(fileURLToPath(ts))) return nextResolve(ts.href, context);
      }
    }
    return nextResolve(specifier, context);
  },
});

const file = process.argv[2] ?? 'mapping.bench.ts';
await import(new URL(file, import.meta.url).href);
