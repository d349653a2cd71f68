import { runService } from '@canopy/service-runtime';
import { GraphWriterModule } from './graph-writer.module.js';

export const HELP = `
Consumes canopy.entra.ops and writes to Microsoft Graph within the tenant's write quota; emits canopy.sync.results.

Usage: node apps/graph-writer/dist/main.js [--help]
`;

await runService({ name: 'graph-writer', module: GraphWriterModule, defaultPort: 8083, help: HELP });
