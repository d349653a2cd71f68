import { readFileSync } from 'node:fs';
import { z } from 'zod';

const REDACTED = '[redacted]';

/**
 * A secret value. It prints as "[redacted]" through String(), JSON.stringify and util.inspect,
 * so a config object can be logged whole without leaking it. Call `reveal()` at the one place
 * the value is used.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

/**
 * A zod schema for a secret: a string, or `{ file: path }` read at load time (Kubernetes Secret
 * volumes), trailing newline trimmed.
 */
export function secret() {
  return z.union([z.string().min(1), z.object({ file: z.string().min(1) }), z.instanceof(Secret)]).transform(
    (value, ctx) => {
      if (value instanceof Secret) return value;
      if (typeof value === 'string') return new Secret(value);
      try {
        return new Secret(readFileSync(value.file, 'utf8').replace(/\r?\n$/, ''));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `cannot read secret file ${value.file}: ${(err as Error).message}` });
        return z.NEVER;
      }
    },
  );
}
