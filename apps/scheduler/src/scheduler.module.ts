import { Module, type DynamicModule } from '@nestjs/common';
import type { Secret } from '@canopy/config';
import { shutdownHook } from '@canopy/service-runtime';
import { ControlApiController } from './api/control-api.controller.js';
import { OpenApiController } from './api/openapi.controller.js';
import { CONTROL_TOKEN, TokenGuard } from './api/token.guard.js';
import { SCHEDULER_CORE, type SchedulerCore } from './scheduler-core.js';

/** The scheduler: control API over the core built in main.ts. */
@Module({})
export class SchedulerModule {
  static with(core: SchedulerCore, token: Secret, stopAll: () => Promise<void>): DynamicModule {
    return {
      module: SchedulerModule,
      controllers: [ControlApiController, OpenApiController],
      providers: [
        { provide: SCHEDULER_CORE, useValue: core },
        { provide: CONTROL_TOKEN, useValue: token },
        TokenGuard,
        shutdownHook(stopAll),
      ],
    };
  }
}
