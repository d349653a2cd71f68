import { runService } from '@canopy/service-runtime';
import { TransformerModule } from './transformer.module.js';

export const HELP = `
Consumes canopy.ad.objects.*, applies scoping and attribute mapping from the central configuration, emits canopy.entra.ops.

Usage: node apps/transformer/dist/main.js [--help]
`;

await runService({ name: 'transformer', module: TransformerModule, defaultPort: 8082, help: HELP });
