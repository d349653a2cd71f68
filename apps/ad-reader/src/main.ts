import { runService } from '@canopy/service-runtime';
import { AdReaderModule } from './ad-reader.module.js';
import { SETTINGS_HELP } from './settings.js';

export const HELP = `
Reads one Active Directory forest over LDAP (DirSync deltas, change notifications) and emits whole-object events to canopy.ad.objects.<forest>.
Run any number of replicas per forest: one is active (Redis lease), the others stand by.

Usage: node apps/ad-reader/dist/main.js [--help]
${SETTINGS_HELP}`;

await runService({ name: 'ad-reader', module: AdReaderModule, defaultPort: 8081, help: HELP });
