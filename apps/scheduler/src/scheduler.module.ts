import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Secret } from '@canopy/config';
import { ControlApiController } from './api/control-api.controller.js';
import { OpenApiController } from './api/openapi.controller.js';
import { CONTROL_TOKEN, TokenGuard } from './api/token.guard.js';
import { SCHEDULER_CORE, type SchedulerCore } from './scheduler-core.js';

class CoreLifecycle implements OnApplicationShutdown {
  constructor(private readonly stopAll: () => Promise<void>) {}
  async onApplicationShutdown(): Promise<void> {
    await this.stopAll();
  }
}

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
        { provide: CoreLifecycle, useValue: new CoreLifecycle(stopAll) },
      ],
    };
  }
}
