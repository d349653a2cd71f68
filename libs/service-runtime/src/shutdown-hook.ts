import type { OnApplicationShutdown, Provider } from '@nestjs/common';

/** Runs `stop` when Nest shuts the application down (after SIGTERM drained the probes). */
export class ShutdownHook implements OnApplicationShutdown {
  constructor(private readonly stop: () => Promise<void>) {}
  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}

/** A provider for a module's `providers` that stops what main.ts built outside Nest. */
export function shutdownHook(stop: () => Promise<void>): Provider {
  return { provide: ShutdownHook, useValue: new ShutdownHook(stop) };
}
