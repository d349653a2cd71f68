import { describe, expect, it } from 'vitest';
import { forestRulesJsonSchema } from './json-schema.js';

describe('forestRulesJsonSchema', () => {
  it('describes the rules document with its sections and mapping types', () => {
    const schema = forestRulesJsonSchema() as { type: string; required: string[]; properties: Record<string, unknown> };
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['forest']);
    expect(Object.keys(schema.properties).sort()).toEqual(['forest', 'mappings', 'scoping', 'upnSuffix']);
    expect(JSON.stringify(schema)).toContain('"const":"expression"');
    expect(JSON.stringify(schema)).toContain('Microsoft provisioning expression');
  });
});
