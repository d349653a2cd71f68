import { InputError } from '@canopy/errors';
import { parse } from 'yaml';

/** The admin's configuration file: one optional global document and a list of forests. */
export interface ConfigFile {
  global?: unknown;
  forests: Array<Record<string, unknown>>;
}

export function parseConfigFile(text: string, source = 'configuration'): ConfigFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new InputError(`${source}: not valid YAML/JSON: ${(err as Error).message}`, { type: 'Config.Syntax' });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InputError(`${source}: expected a mapping with 'global' and 'forests'`, { type: 'Config.Syntax' });
  }
  const { global, forests, ...rest } = doc as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) {
    throw new InputError(`${source}: unknown top-level key(s) ${unknown.join(', ')} (expected 'global' and 'forests')`, {
      type: 'Config.Syntax',
    });
  }
  if (forests !== undefined && !Array.isArray(forests)) {
    throw new InputError(`${source}: 'forests' must be a list`, { type: 'Config.Syntax' });
  }
  return { ...(global === undefined ? {} : { global }), forests: (forests ?? []) as ConfigFile['forests'] };
}
