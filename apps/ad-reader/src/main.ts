import { runService } from '@canopy/service-runtime';
import { AdReaderModule } from './ad-reader.module.js';

export const HELP = `
Reads one Active Directory forest over LDAP (DirSync deltas, change notifications) and emits whole-object events to canopy.ad.objects.<forest>.

Usage: node apps/ad-reader/dist/main.js [--help]
`;

await runService({ name: 'ad-reader', module: AdReaderModule, defaultPort: 8081, help: HELP });
