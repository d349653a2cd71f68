import { handleHelp, runService } from '@canopy/service-runtime';
import { initTracing } from '@canopy/tracing';
import { GraphWriterModule } from './graph-writer.module.js';

export const HELP = `
Consumes canopy.entra.ops and writes to Microsoft Graph within the tenant's write quota (one
sliding-window write log in Redis shared by every replica); emits one result per op on canopy.sync.results,
holds mass deletes for approval (APPROVE_DELETES / REJECT_DELETES on canopy.control).
Tenant, Graph endpoints, quota, delete threshold and soft match come from canopy.config.

Usage: node apps/graph-writer/dist/main.js [--help]

Environment:
  CANOPY_KAFKA__BROKERS              Kafka bootstrap servers (required)
  CANOPY_KAFKA__NAMESPACE            isolate this installation on a shared cluster
  CANOPY_REDIS__URL                  Redis (default redis://127.0.0.1:6379)
  CANOPY_REDIS__PASSWORD_FILE        Redis password (optional)
  CANOPY_REDIS__CA_FILE              CA of a rediss:// server (verified)
  CANOPY_GRAPH__CERTIFICATE_FILE     app certificate (PEM), with CANOPY_GRAPH__PRIVATE_KEY_FILE (recommended)
  CANOPY_GRAPH__CLIENT_SECRET_FILE   or a client secret
  CANOPY_GRAPH__TENANT_ID            override the global document's tenant.id
  CANOPY_GRAPH__CLIENT_ID            override the global document's graph.clientId
  CANOPY_WRITER__*                   tuning (see docs/graph-writer.md)
  OTEL_EXPORTER_OTLP_ENDPOINT        export traces (OTLP/HTTP): each op's span continues the object's trace
`;

handleHelp('graph-writer', HELP);
const tracing = initTracing('graph-writer');
process.once('beforeExit', () => void tracing.shutdown());

await runService({ name: 'graph-writer', module: GraphWriterModule, defaultPort: 8083, help: HELP });
