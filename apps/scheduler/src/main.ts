import { runService } from '@canopy/service-runtime';
import { SchedulerModule } from './scheduler.module.js';

export const HELP = `
Schedules, control commands, central configuration (canopy.config) and the control API used by the canopy CLI.

Usage: node apps/scheduler/dist/main.js [--help]
`;

await runService({ name: 'scheduler', module: SchedulerModule, defaultPort: 8080, help: HELP });
