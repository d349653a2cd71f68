import { assertForestName } from '@canopy/contracts';
import { duration, z } from '@canopy/config';

/**
 * The documents of canopy.config. A GLOBAL document (id 'global') holds the tenant, Graph
 * endpoint, quota and safety settings; one FOREST document per forest (id 'forest/<name>')
 * holds how to reach it, its domains, schedule and rules (scoping + mappings, validated by
 * @canopy/sync-rules). Secrets never live here: each agent reads its own from files or env.
 */

const forestName = z.string().transform((v, ctx) => {
  try {
    return assertForestName(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** DC=corp,DC=example,DC=test for corp.example.test */
export function namingContextOf(dnsName: string): string {
  return dnsName
    .split('.')
    .filter(Boolean)
    .map((p) => `DC=${p}`)
    .join(',');
}

export const forestConnectionSchema = z
  .object({
    /** ldaps://dc1.corp.example.test:636 or ldap://...:389 (StartTLS unless allowInsecure). */
    url: z.string().regex(/^ldaps?:\/\/[^/]+$/, 'must be ldap://host[:port] or ldaps://host[:port]'),
    /** For ldap:// URLs: upgrade with StartTLS (default). */
    startTls: z.boolean().default(true),
    /** Plain LDAP without TLS: only for labs; the reader logs a warning. */
    allowInsecure: z.boolean().default(false),
    /** TLS server name to verify when it differs from the URL's host. */
    tlsServerName: z.string().optional(),
    /** Connect, TLS handshake and bind. */
    timeout: duration().default(10_000),
    /**
     * One search or DirSync call. A DirSync baseline of a large naming context comes back in one
     * answer: the DC may need minutes, and its own limit (MaxQueryDuration, 120 s by default) applies.
     */
    searchTimeout: duration().default(180_000),
    pageSize: z.number().int().min(10).max(5000).default(1000),
  })
  .superRefine((c, ctx) => {
    if (c.url.startsWith('ldap://') && !c.startTls && !c.allowInsecure) {
      ctx.addIssue({
        code: 'custom',
        path: ['startTls'],
        message: 'plain ldap:// without StartTLS sends credentials in clear: set startTls: true, use ldaps://, or set allowInsecure: true for a lab',
      });
    }
  });

export const forestDocumentSchema = z.object({
  name: forestName,
  connection: forestConnectionSchema,
  domains: z
    .array(
      z.object({
        dnsName: z.string().min(1),
        namingContext: z.string().optional(),
      }),
    )
    .min(1, 'list at least one domain of the forest')
    .transform((ds) => ds.map((d) => ({ dnsName: d.dnsName.toLowerCase(), namingContext: d.namingContext ?? namingContextOf(d.dnsName) }))),
  schedule: z
    .object({
      /** DirSync poll fallback (change notifications wake the reader sooner). */
      pollInterval: duration().default(120_000),
      fullSyncInterval: duration().default(604_800_000),
      notifications: z.boolean().default(true),
      /** Wait this long after a notification for more before pulling the delta. */
      debounce: duration().default(150),
    })
    .default({ pollInterval: 120_000, fullSyncInterval: 604_800_000, notifications: true, debounce: 150 }),
  /** Scoping and mappings, in @canopy/sync-rules' shape; validated there on apply. */
  rules: z.record(z.string(), z.unknown()).default({}),
  paused: z.boolean().default(false),
});

export const globalDocumentSchema = z.object({
  tenant: z.object({
    id: z.string().min(1),
    /** <name>.onmicrosoft.com: where unverified UPN suffixes fall back to. */
    initialDomain: z.string().min(1),
    verifiedDomains: z.array(z.string().min(1)).default([]),
  }),
  graph: z
    .object({
      baseUrl: z.string().url().default('https://graph.microsoft.com/v1.0'),
      authorityHost: z.string().url().default('https://login.microsoftonline.com'),
      clientId: z.string().min(1),
    }),
  quota: z
    .object({
      /** Microsoft: 3,000 writes per 150 s per app per tenant. */
      writesPerWindow: z.number().int().positive().default(3000),
      window: duration().default(150_000),
      /** Microsoft: 18,000 writes per 5 minutes per tenant across apps. */
      tenantWritesPerFiveMinutes: z.number().int().positive().default(18000),
    })
    .default({ writesPerWindow: 3000, window: 150_000, tenantWritesPerFiveMinutes: 18000 }),
  deletes: z
    .object({
      /** Deletes per forest beyond this, within one window, are held for approval. */
      threshold: z.number().int().min(0).default(500),
      window: duration().default(3_600_000),
    })
    .default({ threshold: 500, window: 3_600_000 }),
  matching: z
    .object({
      /** Soft match existing cloud objects on UPN / primary SMTP, as Connect does. */
      softMatch: z.boolean().default(true),
    })
    .default({ softMatch: true }),
  quarantine: z
    .object({
      /** A forest whose writer failures exceed this share of its last `minOps` ops is paused. */
      failureRate: z.number().min(0).max(1).default(0.5),
      minOps: z.number().int().positive().default(100),
    })
    .default({ failureRate: 0.5, minOps: 100 }),
});

export type ForestDocumentInput = z.input<typeof forestDocumentSchema>;
export type ForestDocument = z.output<typeof forestDocumentSchema>;
export type GlobalDocumentInput = z.input<typeof globalDocumentSchema>;
export type GlobalDocument = z.output<typeof globalDocumentSchema>;

export const GLOBAL_DOCUMENT_ID = 'global';
export const forestDocumentId = (forest: string) => `forest/${forest}`;
