import { describe, expect, it } from 'vitest';
import { InputError } from '@canopy/errors';
import { compileExpression } from './compile.js';
import { ExpressionSyntaxError } from './errors.js';
import { formatExpression, parseExpression } from './parser.js';

function syntaxError(expr: string): ExpressionSyntaxError {
  try {
    compileExpression(expr);
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionSyntaxError);
    expect(err).toBeInstanceOf(InputError);
    return err as ExpressionSyntaxError;
  }
  throw new Error(`expected a syntax error for ${expr}`);
}

describe('parser', () => {
  it('parses calls, attributes, strings, numbers, hex, names and omitted arguments', () => {
    const ast = parseExpression('Replace([mail], "@contoso.com", , ,"", ,)');
    expect(ast.kind).toBe('call');
    if (ast.kind !== 'call') return;
    expect(ast.args.map((a) => a.kind)).toEqual(['attribute', 'string', 'missing', 'missing', 'string', 'missing', 'missing']);
    expect(formatExpression(parseExpression('BitAnd(&HF, -2.5)'))).toBe('BitAnd(&HF, -2.5)');
    expect(formatExpression(parseExpression('ConvertFromBase64("x", UTF8)'))).toBe('ConvertFromBase64("x", UTF8)');
  });

  it('unescapes \\" and \\\\ in strings and keeps other backslashes', () => {
    const ast = parseExpression('"Company name: \\"Contoso\\" \\\\d \\d"');
    expect(ast).toMatchObject({ kind: 'string', value: 'Company name: "Contoso" \\d \\d' });
  });

  it('reads attribute names with dashes, case-insensitively', () => {
    const c = compileExpression('Join(" ", [ms-DS-ConsistencyGuid], [GivenName])');
    expect(c.attributes).toEqual(['ms-ds-consistencyguid', 'givenname']);
  });

  it('parses comparison and concatenation operators with & before comparison', () => {
    const ast = parseExpression('"t-" & [alias] = "t-x"');
    expect(ast).toMatchObject({ kind: 'binary', op: '=', left: { kind: 'binary', op: '&' } });
  });
});

describe('parse errors point at the column', () => {
  it("expected ')' at column 17", () => {
    const err = syntaxError('Join(" ", [a], [b]');
    expect(err.message).toBe("expected ')' at column 19");
    expect(err.column).toBe(19);
    expect(syntaxError('Left([givenName] 3)').message).toBe("expected ')' at column 18");
  });
  it('unterminated strings and attributes', () => {
    expect(syntaxError('Append([a], "x)').message).toBe('unterminated string (expected \'"\') at column 16');
    expect(syntaxError('Append([a, "x")').message).toBe("expected ']' at column 16");
    expect(syntaxError('Append([], "x")').message).toBe('expected an attribute name at column 9');
  });
  it('unknown functions and wrong argument counts name the function', () => {
    expect(syntaxError('ToLower(Frobnicate([a]))').message).toBe("unknown function 'Frobnicate' at column 9");
    expect(syntaxError('Mid([a], 1)').message).toBe('Mid takes 3 argument(s), got 2 at column 1');
    expect(syntaxError('  Join(",")').message).toBe('Join takes at least 2 argument(s), got 1 at column 3');
  });
  it('trailing input and empty expressions', () => {
    expect(syntaxError('Trim([a]))').message).toBe("unexpected ')' at column 10");
    expect(syntaxError('Trim([a]) Trim([b])').message).toBe("unexpected 'T' at column 11");
    expect(syntaxError('   ').message).toBe('expected an expression at column 4');
    expect(syntaxError('Trim(#)').message).toBe("unexpected '#' at column 6");
  });
  it('an invalid literal regex of Replace is reported when the expression compiles', () => {
    expect(syntaxError('Replace([a], , "(?<x>[a-", , "", , )').message).toMatch(/^invalid regular expression "\(\?<x>\[a-": .* at column 16$/);
  });
  it('errors carry the type Expression.Syntax', () => {
    expect(syntaxError('(').type).toBe('Expression.Syntax');
  });
});
