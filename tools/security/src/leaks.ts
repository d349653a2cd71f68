/**
 * Looking for secrets in everything a run emitted. A secret counts as leaked when any of its
 * usual encodings appears: as is, base64, base64url, hex, URL-encoded, JSON-escaped; a PEM private
 * key leaks when any line of its base64 body appears (a key logged whole, escaped or cut).
 */
export interface SecretToFind {
  /** What it is (shown in reports, never the value). */
  label: string;
  value: string;
}

export interface Needle {
  label: string;
  form: string;
  bytes: Buffer;
}

export interface Leak {
  label: string;
  form: string;
  source: string;
}

const PEM_BODY_LINE = /^[A-Za-z0-9+/=]{32,}$/;

/** Every encoded form of each secret we search for. Values shorter than 8 characters are refused. */
export function needlesOf(secrets: SecretToFind[]): Needle[] {
  const out: Needle[] = [];
  for (const { label, value } of secrets) {
    if (value.length < 8) throw new Error(`${label}: a secret of ${value.length} characters would match by chance; use 8 or more`);
    const add = (form: string, text: string) => {
      if (!out.some((n) => n.label === label && n.bytes.equals(Buffer.from(text, 'utf8')))) out.push({ label, form, bytes: Buffer.from(text, 'utf8') });
    };
    if (value.includes('-----BEGIN')) {
      // PEM: each base64 line of the body is itself a long random string.
      const lines = value.split(/\r?\n/).map((l) => l.trim()).filter((l) => PEM_BODY_LINE.test(l));
      if (lines.length === 0) throw new Error(`${label}: PEM without a body`);
      lines.forEach((l, i) => add(`PEM body line ${i + 1}`, l));
      add('PEM, JSON-escaped', JSON.stringify(value).slice(1, 40));
      continue;
    }
    add('raw', value);
    // base64 at each of the three alignments it can have inside a longer encoded string
    // (e.g. HTTP Basic "id:secret"): only the characters made of the secret's bits alone.
    for (let k = 0; k < 3; k++) {
      const b64 = Buffer.concat([Buffer.alloc(k), Buffer.from(value, 'utf8')]).toString('base64').replace(/=+$/, '');
      add(`base64 (offset ${k})`, b64.slice(Math.ceil((8 * k) / 6), -2));
    }
    add('base64url', Buffer.from(value, 'utf8').toString('base64url'));
    add('hex', Buffer.from(value, 'utf8').toString('hex'));
    add('url-encoded', encodeURIComponent(value));
    add('JSON-escaped', JSON.stringify(value).slice(1, -1));
  }
  return out;
}

/** Where secrets appear in `sources` (text or bytes, e.g. Kafka records or Redis values). */
export function findLeaks(needles: Needle[], sources: Array<{ source: string; data: string | Buffer }>): Leak[] {
  const leaks: Leak[] = [];
  for (const { source, data } of sources) {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (const n of needles) {
      if (buf.includes(n.bytes)) leaks.push({ label: n.label, form: n.form, source });
    }
  }
  return leaks;
}
