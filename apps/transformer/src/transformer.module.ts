import { Module, type DynamicModule } from '@nestjs/common';
import { shutdownHook } from '@canopy/service-runtime';

/** The transformer stage: its work runs in TransformerService, built in main.ts. */
@Module({})
export class TransformerModule {
  static with(stopAll: () => Promise<void>): DynamicModule {
    return { module: TransformerModule, providers: [shutdownHook(stopAll)] };
  }
}
