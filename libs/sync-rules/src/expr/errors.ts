import { InputError } from '@canopy/errors';

/**
 * An expression that cannot be parsed or compiled (syntax, unknown function, wrong number of
 * arguments). `column` is 1-based, counted in UTF-16 code units of the expression text, and the
 * message always ends with "at column N" so an admin can find the spot.
 */
export class ExpressionSyntaxError extends InputError {
  readonly column: number;
  readonly expression: string;

  constructor(message: string, expression: string, column: number) {
    super(`${message} at column ${column}`, {
      type: 'Expression.Syntax',
      details: { column, expression },
    });
    this.column = column;
    this.expression = expression;
  }
}

/**
 * An expression that failed while evaluating one object: the `Error()` function (type
 * 'Expression.Error', as Microsoft's "custom error on the object"), or a value that a function
 * cannot use (type 'Expression.Evaluation', e.g. Item() out of bounds, a date that does not
 * match its format). The mapping layer turns it into a per-object failed outcome.
 */
export class ExpressionEvaluationError extends InputError {
  constructor(message: string, type: 'Expression.Error' | 'Expression.Evaluation' = 'Expression.Evaluation') {
    super(message, { type });
  }
}
