import { handleHelp, runService } from '@canopy/service-runtime';
import { initTracing } from '@canopy/tracing';
import { AdReaderModule } from './ad-reader.module.js';
import { SETTINGS_HELP } from './settings.js';

export const HELP = `
Reads one Active Directory forest over LDAP (DirSync deltas, change notifications) and emits whole-object events to canopy.ad.objects.<forest>.
Run any number of replicas per forest: one is active (Redis lease), the others stand by.

Usage: node apps/ad-reader/dist/main.js [--help]
${SETTINGS_HELP}`;

handleHelp('ad-reader', HELP);
// With OTEL_EXPORTER_OTLP_ENDPOINT set, each event starts a real trace the later stages continue.
initTracing('ad-reader');

await runService({ name: 'ad-reader', module: AdReaderModule, defaultPort: 8081, help: HELP });
