import { ExpressionSyntaxError } from './errors.js';

/**
 * Parser of Microsoft's attribute-mapping expressions (Entra Cloud Sync / app provisioning,
 * "Reference for writing expressions for attribute mappings"):
 *
 *   expression := comparison
 *   comparison := concat [ ("=" | "<>" | ">" | ">=" | "<" | "<=") concat ]
 *   concat     := primary { "&" primary }
 *   primary    := string | number | hex | "[" attribute "]" | name "(" [arg {"," arg}] ")"
 *               | name | "(" expression ")"
 *   arg        := expression | (nothing: an omitted optional argument, as in Replace([mail], "x", , , "", ,))
 *
 * Strings are double-quoted; inside them a backslash escapes a quote or a backslash
 * ("Company name: \"Contoso\"", "\\d{10}" is the regex \d{10}). A backslash before any other
 * character is kept as it is (so "\d" also reaches the regex engine as \d). Numbers are decimal
 * (optionally negative, optionally with a fraction) or VB hexadecimal (&HF7). A bare name that
 * is not followed by "(" is an enumeration constant (UTF8, vbTextCompare, True, False).
 * Comparison operators and "&" come from the IIF documentation; Microsoft documents no AND/OR.
 */
export type BinaryOp = '=' | '<>' | '>' | '>=' | '<' | '<=' | '&';

export type Node =
  | { kind: 'string'; value: string; column: number }
  | { kind: 'number'; value: number; raw: string; column: number }
  | { kind: 'attribute'; name: string; column: number }
  | { kind: 'name'; name: string; column: number }
  | { kind: 'missing'; column: number }
  | { kind: 'call'; name: string; args: Node[]; column: number }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; column: number };

export function parseExpression(text: string): Node {
  return new Parser(text).parseAll();
}

class Parser {
  private pos = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  parseAll(): Node {
    this.skipWs();
    if (this.pos >= this.text.length) this.fail('expected an expression');
    const node = this.parseExpression();
    this.skipWs();
    if (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      this.fail(ch === ')' ? "unexpected ')'" : ch === ',' ? "unexpected ','" : `unexpected '${ch}'`);
    }
    return node;
  }

  private fail(message: string, at = this.pos): never {
    throw new ExpressionSyntaxError(message, this.text, at + 1);
  }

  private skipWs(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private parseExpression(): Node {
    const left = this.parseConcat();
    this.skipWs();
    const op = this.peekComparison();
    if (!op) return left;
    const column = this.pos + 1;
    this.pos += op.length;
    this.skipWs();
    const right = this.parseConcat();
    return { kind: 'binary', op, left, right, column };
  }

  private peekComparison(): BinaryOp | null {
    const two = this.text.slice(this.pos, this.pos + 2);
    if (two === '<>' || two === '>=' || two === '<=') return two;
    const one = this.text[this.pos];
    if (one === '=' || one === '>' || one === '<') return one;
    return null;
  }

  private parseConcat(): Node {
    let left = this.parsePrimary();
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '&' || this.isHexAt(this.pos)) return left;
      const column = this.pos + 1;
      this.pos++;
      this.skipWs();
      const right = this.parsePrimary();
      left = { kind: 'binary', op: '&', left, right, column };
    }
  }

  private isHexAt(at: number): boolean {
    return /^&[hH][0-9a-fA-F]/.test(this.text.slice(at, at + 3));
  }

  private parsePrimary(): Node {
    this.skipWs();
    const start = this.pos;
    const ch = this.text[this.pos];
    if (ch === undefined) this.fail('unexpected end of expression');
    if (ch === '"') return this.parseString();
    if (ch === '[') return this.parseAttribute();
    if (ch === '(') {
      this.pos++;
      this.skipWs();
      const inner = this.parseExpression();
      this.skipWs();
      if (this.text[this.pos] !== ')') this.fail("expected ')'");
      this.pos++;
      return inner;
    }
    if (this.isHexAt(this.pos)) {
      const m = /^&[hH]([0-9a-fA-F]+)/.exec(this.text.slice(this.pos))!;
      this.pos += m[0].length;
      return { kind: 'number', value: parseInt(m[1]!, 16), raw: m[0], column: start + 1 };
    }
    const num = /^-?(\d+(\.\d+)?|\.\d+)/.exec(this.text.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return { kind: 'number', value: Number(num[0]), raw: num[0], column: start + 1 };
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    if (ident) {
      this.pos += ident[0].length;
      this.skipWs();
      if (this.text[this.pos] === '(') return this.parseCall(ident[0], start);
      return { kind: 'name', name: ident[0], column: start + 1 };
    }
    this.fail(`unexpected '${ch}'`);
  }

  private parseString(): Node {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) this.fail('unterminated string (expected \'"\')');
      if (ch === '\\') {
        const next = this.text[this.pos + 1];
        if (next === '"' || next === '\\') {
          out += next;
          this.pos += 2;
          continue;
        }
        out += ch;
        this.pos++;
        continue;
      }
      if (ch === '"') {
        this.pos++;
        return { kind: 'string', value: out, column: start + 1 };
      }
      out += ch;
      this.pos++;
    }
  }

  private parseAttribute(): Node {
    const start = this.pos;
    const end = this.text.indexOf(']', this.pos + 1);
    if (end < 0) this.fail("expected ']'", this.text.length);
    const name = this.text.slice(this.pos + 1, end).trim();
    if (!name) this.fail('expected an attribute name', this.pos + 1);
    this.pos = end + 1;
    return { kind: 'attribute', name, column: start + 1 };
  }

  private parseCall(name: string, start: number): Node {
    this.pos++; // (
    const args: Node[] = [];
    this.skipWs();
    if (this.text[this.pos] === ')') {
      this.pos++;
      return { kind: 'call', name, args, column: start + 1 };
    }
    for (;;) {
      this.skipWs();
      const ch = this.text[this.pos];
      if (ch === ',' || ch === ')') {
        args.push({ kind: 'missing', column: this.pos + 1 });
      } else if (ch === undefined) {
        this.fail("expected ')'");
      } else {
        args.push(this.parseExpression());
      }
      this.skipWs();
      const sep = this.text[this.pos];
      if (sep === ',') {
        this.pos++;
        continue;
      }
      if (sep === ')') {
        this.pos++;
        return { kind: 'call', name, args, column: start + 1 };
      }
      this.fail("expected ')'");
    }
  }
}

/** Render an AST back to text (for explain and error messages). */
export function formatExpression(node: Node): string {
  switch (node.kind) {
    case 'string':
      return `"${node.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    case 'number':
      return node.raw;
    case 'attribute':
      return `[${node.name}]`;
    case 'name':
      return node.name;
    case 'missing':
      return '';
    case 'call':
      return `${node.name}(${node.args.map(formatExpression).join(', ')})`;
    case 'binary':
      return `${formatExpression(node.left)} ${node.op} ${formatExpression(node.right)}`;
  }
}
