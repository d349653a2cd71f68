import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART, THREE_FORESTS, ensureTools, helmTemplate, kubeconform, run, type Tools } from './tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [k: string]: any;
};

function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`invalid YAML from helm template: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null && typeof m === 'object');
}

const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
const named = (ms: Manifest[], kind: string, name: string) => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m)
    throw new Error(`no ${kind} ${name}; have ${ms.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return m;
};
const envOf = (c: any): Record<string, any> =>
  Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));

let tools: Tools;
let defaults: Manifest[];
let defaultsText: string;
let three: Manifest[];
let threeText: string;

beforeAll(() => {
  tools = ensureTools();
  defaultsText = helmTemplate(tools);
  defaults = parseManifests(defaultsText);
  threeText = helmTemplate(tools, ['-f', THREE_FORESTS]);
  three = parseManifests(threeText);
}, 45 * 60_000);

describe('helm lint --strict', () => {
  it('passes with default values', () => {
    const r = run(tools.HELM, ['lint', '--strict', '--kube-version', tools.K8S_VERSION, CHART]);
    expect(r.stdout + r.stderr).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });
  it('passes with the three-forest values', () => {
    const r = run(tools.HELM, [
      'lint',
      '--strict',
      '--kube-version',
      tools.K8S_VERSION,
      CHART,
      '-f',
      THREE_FORESTS,
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('kubeconform (strict, offline schemas generated from Kubernetes OpenAPI and the CRDs)', () => {
  it('the schema folder has the kinds the chart renders', () => {
    for (const f of [
      'deployment-apps-v1.json',
      'networkpolicy-networking-v1.json',
      'horizontalpodautoscaler-autoscaling-v2.json',
      'servicemonitor-monitoring-v1.json',
      'scaledobject-keda-v1alpha1.json',
    ]) {
      expect(() => readFileSync(join(tools.SCHEMA_DIR, f))).not.toThrow();
    }
  });
  it('validates every manifest of the default render', () => {
    const r = kubeconform(tools, defaultsText);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `${defaults.length} resources found.*Valid: ${defaults.length}, Invalid: 0, Errors: 0, Skipped: 0`,
      ),
    );
  });
  it('validates every manifest of the three-forest render (ServiceMonitor and ScaledObject included)', () => {
    const r = kubeconform(tools, threeText);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `${three.length} resources found.*Valid: ${three.length}, Invalid: 0, Errors: 0, Skipped: 0`,
      ),
    );
    expect(byKind(three, 'ServiceMonitor')).toHaveLength(1);
    expect(byKind(three, 'ScaledObject')).toHaveLength(2);
  });
  it('both renders are also valid for the oldest supported Kubernetes (Chart.yaml kubeVersion)', () => {
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { kubeVersion: string };
    const [major, minor] = tools.K8S_MIN_VERSION.split('.');
    expect(chart.kubeVersion).toBe(`>=${major}.${minor}.0-0`);
    for (const args of [[], ['-f', THREE_FORESTS]]) {
      const text = helmTemplate({ ...tools, K8S_VERSION: tools.K8S_MIN_VERSION }, args);
      const r = kubeconform(tools, text, 'min');
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
    }
  });
  it('rejects an unknown field, a wrong type and an unknown kind (the check can fail)', () => {
    const typo = threeText.replace('revisionHistoryLimit: 5', 'revisionHistoryLimt: 5');
    expect(kubeconform(tools, typo).status).not.toBe(0);
    const wrongType = threeText.replace(/maxUnavailable: 1/, 'maxUnavailable: true');
    expect(kubeconform(tools, wrongType).status).not.toBe(0);
    const crdTypo = threeText.replace('podTargetLabels:', 'podTargetLabel:');
    expect(kubeconform(tools, crdTypo).status).not.toBe(0);
    const unknownKind = 'apiVersion: example.com/v1\nkind: Gizmo\nmetadata:\n  name: x\n';
    expect(kubeconform(tools, unknownKind).status).not.toBe(0);
  });
});

describe('default render', () => {
  it('has transformer, writer and scheduler but no reader (no forests yet)', () => {
    const deployments = byKind(defaults, 'Deployment')
      .map((d) => d.metadata.name)
      .sort();
    expect(deployments).toEqual(['canopy-graph-writer', 'canopy-scheduler', 'canopy-transformer']);
    expect(
      byKind(defaults, 'HorizontalPodAutoscaler')
        .map((h) => h.metadata.name)
        .sort(),
    ).toEqual(['canopy-graph-writer', 'canopy-transformer']);
    expect(byKind(defaults, 'ScaledObject')).toHaveLength(0);
    expect(byKind(defaults, 'ServiceMonitor')).toHaveLength(0);
    const writer = named(defaults, 'Deployment', 'canopy-graph-writer');
    expect(writer.spec.template.spec.containers[0].image).toBe('canopy/graph-writer:0.1.0');
  });
  it('caps the transformer and the writer: NODE_OPTIONS heap caps, 256Mi request, 384Mi limit', () => {
    for (const name of ['canopy-transformer', 'canopy-graph-writer']) {
      const c = named(defaults, 'Deployment', name).spec.template.spec.containers[0];
      expect(envOf(c).NODE_OPTIONS, name).toBe('--max-old-space-size=128 --max-semi-space-size=8');
      expect(c.resources, name).toEqual({
        requests: { cpu: '100m', memory: '256Mi' },
        limits: { memory: '384Mi' },
      });
    }
  });
  it("nodeOptions '' leaves NODE_OPTIONS to the image", () => {
    const ms = parseManifests(
      helmTemplate(tools, [
        '--set',
        'transformer.nodeOptions=',
        '--set',
        'writer.nodeOptions=--max-old-space-size=200',
      ]),
    );
    expect(
      envOf(named(ms, 'Deployment', 'canopy-transformer').spec.template.spec.containers[0]).NODE_OPTIONS,
    ).toBeUndefined();
    expect(
      envOf(named(ms, 'Deployment', 'canopy-graph-writer').spec.template.spec.containers[0]).NODE_OPTIONS,
    ).toBe('--max-old-space-size=200');
  });
  it('ships the Grafana dashboard with the sidecar label and valid JSON', () => {
    const cm = named(defaults, 'ConfigMap', 'canopy-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    const dash = JSON.parse(cm.data['canopy.json']);
    expect(dash.panels.length).toBeGreaterThan(10);
  });
  it('labels every object with the app.kubernetes.io/* standard labels', () => {
    for (const m of defaults) {
      expect(m.metadata.labels, `${m.kind}/${m.metadata.name}`).toMatchObject({
        'app.kubernetes.io/name': 'canopy',
        'app.kubernetes.io/instance': 'canopy',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'canopy',
      });
      expect(m.metadata.labels?.['helm.sh/chart']).toMatch(/^canopy-/);
    }
  });
});

describe('three-forest render', () => {
  const forests = ['corp', 'fabrikam', 'lab'];

  it('has exactly one reader Deployment per forest, with the forest replicas', () => {
    const readers = byKind(three, 'Deployment').filter(
      (d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'ad-reader',
    );
    expect(readers.map((r) => r.metadata.labels?.['canopy.io/forest']).sort()).toEqual(forests);
    expect(readers.map((r) => [r.metadata.name, r.spec.replicas]).sort()).toEqual([
      ['canopy-reader-corp', 3],
      ['canopy-reader-fabrikam', 2],
      ['canopy-reader-lab', 1],
    ]);
  });

  for (const forest of forests) {
    it(`reader ${forest}: hardened pod, probes, its own Secret, CANOPY_FOREST`, () => {
      const d = named(three, 'Deployment', `canopy-reader-${forest}`);
      const pod = d.spec.template.spec;
      expect(d.spec.selector.matchLabels['canopy.io/forest']).toBe(forest);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.containers).toHaveLength(1);
      const c = pod.containers[0];
      expect(c.securityContext).toEqual({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.ports).toEqual([{ name: 'http', containerPort: 8081, protocol: 'TCP' }]);
      expect(c.resources.requests).toBeDefined();
      expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });

      const env = envOf(c);
      expect(env.CANOPY_FOREST).toBe(forest);
      expect(env.CANOPY_KAFKA__BROKERS).toBe('canopy-kafka-bootstrap.kafka.svc:9093');
      expect(env.CANOPY_KAFKA__TLS__ENABLED).toBe('true');
      expect(env.CANOPY_KAFKA__TLS__CA_FILE).toBe('/etc/canopy/kafka-ca/ca.crt');
      expect(env.CANOPY_KAFKA__SASL__PASSWORD_FILE).toBe('/etc/canopy/kafka-sasl/password');
      expect(env.CANOPY_REDIS__URL).toBe('rediss://canopy-valkey.redis.svc:6379');
      expect(env.CANOPY_LDAP__BIND_PASSWORD_FILE).toBe('/etc/canopy/ldap/bind-password');

      const secretName = pod.volumes.find((v: any) => v.name === 'ldap').secret.secretName;
      const expected = forest === 'fabrikam' ? 'canopy-fabrikam-ldap' : `canopy-reader-${forest}`;
      expect(secretName).toBe(expected);
      if (forest !== 'fabrikam') {
        const s = named(three, 'Secret', secretName);
        expect(s.stringData['bind-password']).toBeTruthy();
        expect(s.stringData['bind-dn']).toBe(env.CANOPY_LDAP__BIND_DN);
      }
      if (forest === 'corp') expect(env.CANOPY_LDAP__CA_FILE).toBe('/etc/canopy/ldap/ca.crt');
      if (forest === 'lab') expect(env.CANOPY_LDAP__CA_FILE).toBeUndefined();
    });

    it(`reader ${forest}: NetworkPolicy allows only its DCs, Kafka, Redis and DNS`, () => {
      const np = named(three, 'NetworkPolicy', `canopy-reader-${forest}`);
      expect(np.spec.podSelector.matchLabels['canopy.io/forest']).toBe(forest);
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      const egress = np.spec.egress as any[];
      const ports = (rule: any) => rule.ports.map((p: any) => `${p.protocol}/${p.port}`).sort();
      expect(egress).toHaveLength(4);
      expect(ports(egress[0])).toEqual(['TCP/53', 'UDP/53']);
      expect(ports(egress[1])).toEqual(['TCP/9092', 'TCP/9093']);
      expect(ports(egress[2])).toEqual(['TCP/6379']);
      const dcs = egress[3];
      const want = {
        corp: [
          ['10.10.0.0/24', '10.10.1.0/24'],
          ['TCP/3269', 'TCP/636'],
        ],
        fabrikam: [['172.20.5.10/32', '172.20.5.11/32'], ['TCP/389']],
        lab: [['192.168.50.0/24'], ['TCP/3269', 'TCP/636']],
      }[forest]!;
      expect(dcs.to.map((t: any) => t.ipBlock.cidr)).toEqual(want[0]);
      expect(ports(dcs)).toEqual(want[1]);
    });
  }

  it('a PodDisruptionBudget for each reader with more than one replica', () => {
    const pdbs = byKind(three, 'PodDisruptionBudget')
      .map((p) => p.metadata.name)
      .sort();
    expect(pdbs).toEqual([
      'canopy-graph-writer',
      'canopy-reader-corp',
      'canopy-reader-fabrikam',
      'canopy-scheduler',
      'canopy-transformer',
    ]);
  });

  it('every container of every Deployment is hardened and probed', () => {
    for (const d of byKind(three, 'Deployment')) {
      for (const c of d.spec.template.spec.containers) {
        expect(c.securityContext.readOnlyRootFilesystem, d.metadata.name).toBe(true);
        expect(c.securityContext.capabilities.drop, d.metadata.name).toEqual(['ALL']);
        expect(c.livenessProbe.httpGet.path).toBe('/healthz');
        expect(c.readinessProbe.httpGet.path).toBe('/readyz');
        expect(c.image, d.metadata.name).toMatch(
          /^registry\.example\.com\/platform\/canopy\/[a-z-]+(:0\.1\.0|@sha256:[0-9a-f]{64})$/,
        );
      }
    }
  });

  it('the writer gets the Graph certificate from the existing Secret and egress 443', () => {
    const d = named(three, 'Deployment', 'canopy-graph-writer');
    const c = d.spec.template.spec.containers[0];
    const env = envOf(c);
    expect(env.CANOPY_GRAPH__TENANT_ID).toBe('11111111-2222-3333-4444-555555555555');
    expect(env.CANOPY_GRAPH__CERTIFICATE_FILE).toBe('/etc/canopy/graph/tls.crt');
    expect(env.CANOPY_GRAPH__PRIVATE_KEY_FILE).toBe('/etc/canopy/graph/tls.key');
    expect(env.CANOPY_GRAPH__CLIENT_SECRET_FILE).toBeUndefined();
    expect(d.spec.template.spec.volumes).toContainEqual({
      name: 'graph',
      secret: { secretName: 'canopy-graph-cert', defaultMode: 0o440 },
    });
    expect(c.image).toContain('@sha256:');
    expect(byKind(three, 'Secret').map((s) => s.metadata.name)).not.toContain('canopy-graph');
    const np = named(three, 'NetworkPolicy', 'canopy-graph-writer');
    const graphRule = np.spec.egress.find((r: any) => r.ports.some((p: any) => p.port === 443));
    expect(graphRule.to[0].ipBlock).toEqual({
      cidr: '0.0.0.0/0',
      except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    });
  });

  it('KEDA replaces the HPAs and scales on consumer lag', () => {
    expect(byKind(three, 'HorizontalPodAutoscaler')).toHaveLength(0);
    const so = named(three, 'ScaledObject', 'canopy-graph-writer');
    expect(so.spec.triggers[0]).toMatchObject({
      type: 'kafka',
      metadata: { consumerGroup: 'canopy-graph-writer', topic: 'canopy.entra.ops' },
      authenticationRef: { name: 'canopy-kafka-keda' },
    });
    expect(named(three, 'Deployment', 'canopy-graph-writer').spec.replicas).toBeUndefined();
  });

  it('the scheduler gets the initial configuration and the control token; its API is reachable from the CLI namespace', () => {
    const d = named(three, 'Deployment', 'canopy-scheduler');
    const env = envOf(d.spec.template.spec.containers[0]);
    expect(env.CANOPY_CONTROL__TOKEN_FILE).toBe('/etc/canopy/control/token');
    expect(env.CANOPY_INITIAL_CONFIG).toBe('/etc/canopy/config/forests.yaml');
    const cm = named(three, 'ConfigMap', 'canopy-config');
    const doc = parse(cm.data['forests.yaml']);
    expect(doc.global.tenant.initialDomain).toBe('contoso.onmicrosoft.com');
    expect(doc.forests.map((f: any) => f.name)).toEqual(forests);
    expect(doc.forests[0].connection.url).toBe('ldaps://dc1.corp.contoso.com:636');
    expect(JSON.stringify(doc)).not.toContain('not-a-real-password');
    const svc = named(three, 'Service', 'canopy-scheduler');
    expect(svc.spec.ports[0]).toMatchObject({ name: 'http', port: 8080, targetPort: 'http' });
    const np = named(three, 'NetworkPolicy', 'canopy-scheduler');
    expect(np.spec.ingress[1].from).toEqual([
      { namespaceSelector: { matchLabels: { 'canopy.io/cli': 'true' } } },
    ]);
  });

  it('the ServiceMonitor scrapes /metrics of every component and keeps the forest label', () => {
    const sm = named(three, 'ServiceMonitor', 'canopy');
    expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    expect(sm.spec.podTargetLabels).toContain('canopy.io/forest');
    const metricServices = byKind(three, 'Service').filter(
      (s) => s.metadata.labels?.['canopy.io/metrics'] === 'true',
    );
    expect(metricServices.map((s) => s.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual([
      'ad-reader',
      'graph-writer',
      'scheduler',
      'transformer',
    ]);
  });
});

describe('values.schema.json is strict', () => {
  const tryRender = (values: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-values-'));
    const file = join(dir, 'values.yaml');
    writeFileSync(file, values);
    return run(tools.HELM, ['template', 'canopy', CHART, '--kube-version', tools.K8S_VERSION, '-f', file]);
  };
  it('rejects an unknown top-level key and an unknown key in a forest', () => {
    expect(tryRender('replicaCount: 3\n').stderr).toMatch(/additional properties 'replicaCount' not allowed/);
    const r = tryRender(
      'forests:\n  - name: corp\n    ldap: { bindDn: x, bindPassword: pw }\n    dcs: { cidrs: [10.0.0.0/8] }\n    replica: 2\n',
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/replica/);
  });
  it('rejects a bad forest name, a duplicate forest and a forest without DCs', () => {
    expect(
      tryRender(
        'forests:\n  - name: Corp_1\n    ldap: { bindDn: x, bindPassword: pw }\n    dcs: { cidrs: [10.0.0.0/8] }\n',
      ).status,
    ).not.toBe(0);
    const dup = tryRender(
      'forests:\n  - name: corp\n    ldap: { bindDn: x, bindPassword: pw }\n    dcs: { cidrs: [10.0.0.0/8] }\n  - name: corp\n    ldap: { bindDn: x, bindPassword: pw }\n    dcs: { cidrs: [10.0.0.0/8] }\n',
    );
    expect(dup.stderr).toMatch(/appears twice/);
    expect(tryRender('forests:\n  - name: corp\n    ldap: { bindDn: x, bindPassword: pw }\n').stderr).toMatch(
      /dcs/,
    );
  });
  it('requires bind credentials when no existingSecret is named', () => {
    expect(
      tryRender('forests:\n  - name: corp\n    ldap: { bindDn: x }\n    dcs: { cidrs: [10.0.0.0/8] }\n')
        .stderr,
    ).toMatch(/bindPassword/);
  });
  it('a values file that is valid renders', () => {
    const r = tryRender(
      'forests:\n  - name: corp.example\n    ldap: { bindDn: x, bindPassword: pw }\n    dcs: { cidrs: [10.0.0.0/8] }\nkafka:\n  brokers: [k:9092]\n  tls: { enabled: false }\n',
    );
    expect(r.status, r.stderr).toBe(0);
    const env = envOf(
      named(parseManifests(r.stdout), 'Deployment', 'canopy-reader-corp.example').spec.template.spec
        .containers[0],
    );
    // Booleans from env are coerced by zod: "false" would read as true, so the chart sets the variable only when true.
    expect(env.CANOPY_KAFKA__TLS__ENABLED).toBeUndefined();
  });
});

describe('NOTES.txt', () => {
  // helm template never renders NOTES.txt and `helm install --dry-run` needs a cluster, so a
  // copy of the chart renders it through tpl into a ConfigMap.
  const helmTemplateOf = (chart: string, args: string[]) =>
    run(tools.HELM, [
      'template',
      'canopy',
      chart,
      '--namespace',
      'canopy',
      '--kube-version',
      tools.K8S_VERSION,
      ...args,
    ]);
  it('renders for default and three-forest values', () => {
    const render = (args: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'canopy-notes-'));
      const chart = join(dir, 'canopy');
      cpSync(CHART, chart, { recursive: true });
      cpSync(join(chart, 'templates/NOTES.txt'), join(chart, 'files/notes.tmpl'));
      writeFileSync(
        join(chart, 'templates/zz-notes.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "files/notes.tmpl") . | quote }}\n',
      );
      const r = helmTemplateOf(chart, ['--show-only', 'templates/zz-notes.yaml', ...args]);
      expect(r.status, r.stderr).toBe(0);
      return parseManifests(r.stdout)[0]!.data.notes as string;
    };
    const plain = render([]);
    expect(plain).toContain('none yet: add entries to `forests`');
    expect(plain).toContain('ACTION NEEDED: no Graph credentials');
    const three = render(['-f', THREE_FORESTS]);
    for (const f of ['corp', 'fabrikam', 'lab']) expect(three).toContain(`canopy-reader-${f}`);
    expect(three).toContain('KEDA ScaledObjects');
    expect(three).not.toContain('ACTION NEEDED');
  });
});

describe('option variants render valid manifests', () => {
  const forest = [
    '--set',
    'forests[0].name=corp',
    '--set',
    'forests[0].ldap.bindDn=CN=x',
    '--set',
    'forests[0].ldap.bindPassword=pw',
    '--set',
    'forests[0].dcs.cidrs[0]=10.0.0.0/8',
  ];
  const variants: Record<string, string[]> = {
    'client secret, SASL password from values, Redis password, no NetworkPolicies, no SA': [
      ...forest,
      '--set',
      'graph.auth=clientSecret',
      '--set',
      'graph.clientSecret=s3cret',
      '--set',
      'kafka.sasl.enabled=true',
      '--set',
      'kafka.sasl.password=pw',
      '--set',
      'redis.password=rpw',
      '--set',
      'networkPolicy.enabled=false',
      '--set',
      'serviceAccount.create=false',
      '--set',
      'serviceAccount.name=platform-sa',
    ],
    'certificate from values, no autoscaling, no PDBs, no dashboard, kafka namespace': [
      ...forest,
      '--set',
      'graph.certificate=CERT',
      '--set',
      'graph.privateKey=KEY',
      '--set',
      'transformer.autoscaling.enabled=false',
      '--set',
      'writer.autoscaling.enabled=false',
      '--set',
      'transformer.podDisruptionBudget.enabled=false',
      '--set',
      'reader.podDisruptionBudget.enabled=false',
      '--set',
      'metrics.dashboard.enabled=false',
      '--set',
      'kafka.namespace=team-a',
    ],
  };
  for (const [name, args] of Object.entries(variants)) {
    it(name, () => {
      const text = helmTemplate(tools, args);
      const r = kubeconform(tools, text);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const ms = parseManifests(text);
      const writer = named(ms, 'Deployment', 'canopy-graph-writer');
      const env = envOf(writer.spec.template.spec.containers[0]);
      if (args.includes('graph.auth=clientSecret')) {
        expect(env.CANOPY_GRAPH__CLIENT_SECRET_FILE).toBe('/etc/canopy/graph/client-secret');
        expect(named(ms, 'Secret', 'canopy-graph').stringData['client-secret']).toBe('s3cret');
        expect(named(ms, 'Secret', 'canopy-kafka-sasl').stringData.password).toBe('pw');
        expect(env.CANOPY_REDIS__PASSWORD_FILE).toBe('/etc/canopy/redis/redis-password');
        expect(byKind(ms, 'NetworkPolicy')).toHaveLength(0);
        expect(byKind(ms, 'ServiceAccount')).toHaveLength(0);
        expect(writer.spec.template.spec.serviceAccountName).toBe('platform-sa');
      } else {
        expect(named(ms, 'Secret', 'canopy-graph').type).toBe('kubernetes.io/tls');
        expect(byKind(ms, 'HorizontalPodAutoscaler')).toHaveLength(0);
        expect(writer.spec.replicas).toBe(2);
        expect(
          byKind(ms, 'PodDisruptionBudget')
            .map((p) => p.metadata.name)
            .sort(),
        ).toEqual(['canopy-graph-writer', 'canopy-scheduler']);
        expect(env.CANOPY_KAFKA__NAMESPACE).toBe('team-a');
        expect(ms.find((m) => m.metadata.name === 'canopy-dashboard')).toBeUndefined();
      }
    });
  }
});
