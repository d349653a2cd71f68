#!/usr/bin/env node
// Writes deploy/helm/canopy/files/dashboard.json, the Grafana dashboard the chart ships as a
// ConfigMap. Metric names follow docs/deployment.md (canopy_<stage>_<what>_<unit>); the deploy
// tests check that every metric named there has a panel and that this file is current.
// `--check` writes nothing and exits 1 when the file is stale.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = join(root, 'deploy/helm/canopy/files/dashboard.json');
const ds = { type: 'prometheus', uid: '${datasource}' };

let id = 0;
const row = (title, y) => ({
  type: 'row',
  id: ++id,
  title,
  collapsed: false,
  gridPos: { h: 1, w: 24, x: 0, y },
  panels: [],
});
function ts(title, targets, { x, y, w = 12, h = 8, unit = 'short', description = '' }) {
  return {
    type: 'timeseries',
    id: ++id,
    title,
    description,
    datasource: ds,
    gridPos: { h, w, x, y },
    fieldConfig: { defaults: { unit, custom: { lineWidth: 1, fillOpacity: 10 } }, overrides: [] },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi' },
    },
    targets: targets.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: ds,
      expr,
      legendFormat,
    })),
  };
}
function stat(title, expr, { x, y, w = 6, h = 4, unit = 'short', thresholds = [] }) {
  return {
    type: 'stat',
    id: ++id,
    title,
    datasource: ds,
    gridPos: { h, w, x, y },
    fieldConfig: {
      defaults: {
        unit,
        thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, ...thresholds] },
      },
      overrides: [],
    },
    options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'background' },
    targets: [{ refId: 'A', datasource: ds, expr }],
  };
}
const sel = 'namespace=~"$namespace"';

const panels = [
  row('Overview', 0),
  stat('Held deletes', `sum(canopy_graph_writer_held_deletes{${sel}})`, {
    x: 0,
    y: 1,
    thresholds: [{ color: 'red', value: 1 }],
  }),
  stat('Write tokens available', `min(canopy_graph_writer_quota_tokens_available{${sel}})`, { x: 6, y: 1 }),
  stat('429s (15 min)', `sum(increase(canopy_graph_writer_throttled_total{${sel}}[15m]))`, {
    x: 12,
    y: 1,
    thresholds: [{ color: 'orange', value: 1 }],
  }),
  stat('Oldest reader cookie', `max(canopy_ad_reader_cookie_age_seconds{${sel}})`, {
    x: 18,
    y: 1,
    unit: 's',
    thresholds: [
      { color: 'orange', value: 600 },
      { color: 'red', value: 3600 },
    ],
  }),
  row('Throughput per stage', 5),
  ts(
    'AD reader: events produced /s by forest',
    [[`sum by (forest) (rate(canopy_ad_reader_events_produced_total{${sel}}[5m]))`, '{{forest}}']],
    { x: 0, y: 6, w: 8, unit: 'ops' },
  ),
  ts(
    'Transformer: messages in /s by forest',
    [[`sum by (forest) (rate(canopy_transformer_messages_total{${sel}}[5m]))`, '{{forest}}']],
    { x: 8, y: 6, w: 8, unit: 'ops' },
  ),
  ts(
    'Transformer: ops out /s by action',
    [[`sum by (action) (rate(canopy_transformer_ops_total{${sel}}[5m]))`, '{{action}}']],
    { x: 16, y: 6, w: 8, unit: 'ops' },
  ),
  ts('Graph writer: writes /s', [[`sum(rate(canopy_graph_writer_writes_total{${sel}}[5m]))`, 'writes']], {
    x: 0,
    y: 14,
    unit: 'ops',
  }),
  ts(
    'Results /s by outcome',
    [
      [`sum by (outcome) (rate(canopy_graph_writer_results_total{${sel}}[5m]))`, 'writer {{outcome}}'],
      [`sum by (outcome) (rate(canopy_transformer_results_total{${sel}}[5m]))`, 'transformer {{outcome}}'],
    ],
    { x: 12, y: 14, unit: 'ops' },
  ),
  row('Lag and latency', 22),
  ts(
    'Consumer lag by stage',
    [
      [`sum(canopy_transformer_consumer_lag{${sel}})`, 'transformer'],
      [`sum(canopy_graph_writer_consumer_lag{${sel}})`, 'graph-writer'],
    ],
    { x: 0, y: 23, description: 'Messages not yet consumed, summed over partitions.' },
  ),
  ts(
    'Graph writer: op to durable result (p50, p95, p99)',
    [
      [
        `histogram_quantile(0.5, sum by (le) (rate(canopy_graph_writer_write_latency_seconds_bucket{${sel}}[5m])))`,
        'p50',
      ],
      [
        `histogram_quantile(0.95, sum by (le) (rate(canopy_graph_writer_write_latency_seconds_bucket{${sel}}[5m])))`,
        'p95',
      ],
      [
        `histogram_quantile(0.99, sum by (le) (rate(canopy_graph_writer_write_latency_seconds_bucket{${sel}}[5m])))`,
        'p99',
      ],
    ],
    { x: 12, y: 23, unit: 's' },
  ),
  ts(
    'Transformer: batch duration p95 by forest',
    [
      [
        `histogram_quantile(0.95, sum by (le, forest) (rate(canopy_transformer_batch_duration_seconds_bucket{${sel}}[5m])))`,
        '{{forest}}',
      ],
    ],
    { x: 0, y: 31, unit: 's' },
  ),
  ts(
    'Graph requests /s by status',
    [[`sum by (status) (rate(canopy_graph_writer_requests_total{${sel}}[5m]))`, '{{status}}']],
    { x: 12, y: 31, unit: 'ops' },
  ),
  row('Graph quota and safety', 39),
  ts(
    'Writes the quota can still grant (shared, min over windows)',
    [[`min(canopy_graph_writer_quota_tokens_available{${sel}})`, 'tokens']],
    { x: 0, y: 40, w: 8 },
  ),
  ts('429 Too Many Requests /s', [[`sum(rate(canopy_graph_writer_throttled_total{${sel}}[5m]))`, '429s']], {
    x: 8,
    y: 40,
    w: 8,
    unit: 'ops',
  }),
  ts('Held deletes', [[`max(canopy_graph_writer_held_deletes{${sel}})`, 'held']], { x: 16, y: 40, w: 8 }),
  ts(
    'Reader DirSync cookie age by forest',
    [[`max by (forest) (canopy_ad_reader_cookie_age_seconds{${sel}})`, '{{forest}}']],
    { x: 0, y: 48, w: 8, unit: 's' },
  ),
  ts(
    'Active reader per forest (lease holders)',
    [[`sum by (forest) (canopy_ad_reader_lease_held{${sel}})`, '{{forest}}']],
    { x: 8, y: 48, w: 8, description: 'Exactly 1 per forest is healthy: 0 means no reader holds the lease.' },
  ),
  ts(
    'Dead letters /s and paused forests',
    [
      [
        `sum by (forest) (rate(canopy_transformer_dead_letters_total{${sel}}[5m]))`,
        'dead letters {{forest}}',
      ],
      [`max(canopy_transformer_paused_forests{${sel}})`, 'paused forests'],
    ],
    { x: 16, y: 48, w: 8 },
  ),
];

const dashboard = {
  uid: 'canopy-overview',
  title: 'Canopy: AD to Entra ID sync',
  tags: ['canopy'],
  timezone: 'utc',
  schemaVersion: 39,
  version: 1,
  refresh: '30s',
  time: { from: 'now-6h', to: 'now' },
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' },
      {
        name: 'namespace',
        type: 'query',
        datasource: ds,
        label: 'Namespace',
        includeAll: true,
        multi: true,
        query: { query: 'label_values(canopy_graph_writer_writes_total, namespace)', refId: 'ns' },
        refresh: 2,
      },
    ],
  },
  panels,
};

const text = JSON.stringify(dashboard, null, 2) + '\n';
if (process.argv.includes('--check')) {
  // Compared as JSON, so formatting (prettier) does not matter.
  const have = existsSync(file) ? JSON.stringify(JSON.parse(readFileSync(file, 'utf8'))) : '';
  if (have !== JSON.stringify(dashboard)) {
    console.error(
      'stale: deploy/helm/canopy/files/dashboard.json (run node deploy/scripts/gen-dashboard.mjs)',
    );
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
  console.log('wrote deploy/helm/canopy/files/dashboard.json');
}
