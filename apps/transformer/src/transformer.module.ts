import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';

class Lifecycle implements OnApplicationShutdown {
  constructor(private readonly stopAll: () => Promise<void>) {}
  async onApplicationShutdown(): Promise<void> {
    await this.stopAll();
  }
}

/** The transformer stage: its work runs in TransformerService, built in main.ts. */
@Module({})
export class TransformerModule {
  static with(stopAll: () => Promise<void>): DynamicModule {
    return { module: TransformerModule, providers: [{ provide: Lifecycle, useValue: new Lifecycle(stopAll) }] };
  }
}
