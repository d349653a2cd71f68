import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InputError } from '@canopy/errors';
import { compileExpression } from './compile.js';
import { ExpressionSyntaxError } from './errors.js';
import { FUNCTIONS } from './functions.js';
import type { Value } from './values.js';

/**
 * Property tests of the expression engine: arbitrary text only ever fails with a syntax error
 * (with a column inside the text), and arbitrary well-formed calls of every function on
 * arbitrary values only ever fail with an InputError, never a TypeError or RangeError leaking
 * out of a function.
 */
describe('expression engine robustness', () => {
  it('rejects arbitrary text only with ExpressionSyntaxError pointing inside the text', () => {
    const token = fc.constantFrom('Join(', 'Mid(', 'IIF(', '[a]', '"x"', '"\\"', ',', ')', '(', ' ', '&HF', '-1', '=', '<>', '&', 'True', ']', '[', '"');
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.array(token, { maxLength: 12 }).map((t) => t.join('')));
    fc.assert(
      fc.property(text, (t) => {
        try {
          compileExpression(t);
        } catch (err) {
          expect(err).toBeInstanceOf(ExpressionSyntaxError);
          const col = (err as ExpressionSyntaxError).column;
          expect(col).toBeGreaterThanOrEqual(1);
          expect(col).toBeLessThanOrEqual(t.length + 1);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('evaluates any function on any values without leaking a non-InputError', () => {
    const names = [...FUNCTIONS.values()].filter((d) => d.name !== 'Guid');
    const literal = fc.oneof(
      fc.string({ maxLength: 12 }).map((s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`),
      fc.integer({ min: -5, max: 40 }).map(String),
      fc.constantFrom('&HF7', '-1', '0', '2.5', 'UTF8', 'ASCII', 'vbTextCompare', 'True', '""', '"yyyy-MM-dd"', '"(?<g>\\\\d+)"', '"g"', '"tr-TR"', '"xx-INVALID-culture"'),
      fc.constantFrom('[s]', '[n]', '[mv]', '[bin]', '[missing]', '[date]'),
    );
    const call = fc
      .record({ def: fc.constantFrom(...names), args: fc.array(fc.oneof(literal, fc.constant('')), { minLength: 0, maxLength: 8 }) })
      .filter(({ def, args }) => args.length >= def.min && args.length <= def.max && (!def.check || def.check(args.length) === null))
      .map(({ def, args }) => (def.name === 'SelectUniqueValue' ? `${def.name}(${args.map((a) => a || '""').join(', ')})` : `${def.name}(${args.join(', ')})`));
    const attrs: Record<string, Value> = {
      s: 'Zoë Ångström, R&D',
      n: '514',
      mv: ['SMTP:a@x', 'smtp:b@x', ''],
      bin: Buffer.from('010500000000000515000000a065cf7e', 'hex'),
      date: '20150123105347.1Z',
    };
    fc.assert(
      fc.property(call, (expr) => {
        let compiled;
        try {
          compiled = compileExpression(expr);
        } catch (err) {
          expect(err, expr).toBeInstanceOf(ExpressionSyntaxError);
          return;
        }
        try {
          compiled.evaluate({ attr: (n) => attrs[n] ?? null, newGuid: () => '00000000-0000-4000-8000-000000000000' });
        } catch (err) {
          if (!(err instanceof InputError)) throw new Error(`${expr} threw ${(err as Error).name}: ${(err as Error).message}`);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
