// Lets Node run our TypeScript CLIs directly (Node >= 23 strips types): relative imports are
// written `./x.js` (repo convention, for tsc), so map them to `./x.ts` when no .js exists.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      if ((specifier.startsWith('.') || specifier.startsWith('/')) && specifier.endsWith('.js')) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      }
      throw err;
    }
  },
});
