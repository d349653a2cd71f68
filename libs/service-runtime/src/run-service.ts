import 'reflect-metadata';
import { Global, Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, type Logger } from '@canopy/logger';
import { ServiceMetrics } from './metrics.js';
import { NestLoggerAdapter } from './nest-logger.js';
import { ProbesController } from './probes.controller.js';
import { Readiness } from './readiness.js';

/** Injection token of the service's logger. */
export const LOGGER = Symbol.for('canopy.logger');

export interface ServiceOptions {
  /** Stage name: ad-reader, transformer, graph-writer, scheduler, ... */
  name: string;
  /** The app's own Nest module (its providers start work in onApplicationBootstrap). */
  module: Type<unknown> | DynamicModule;
  /** HTTP port for probes and APIs. Default: env CANOPY_HTTP_PORT, else `defaultPort`. */
  defaultPort: number;
  host?: string;
  /** Text printed by --help (what the service does and its environment variables). */
  help: string;
  /** Longest wait for in-flight work on SIGTERM before giving up (ms). */
  shutdownTimeoutMs?: number;
  logger?: Logger;
}

export interface RunningService {
  app: INestApplication;
  url: string;
  logger: Logger;
  /** Stop as on SIGTERM (without exiting the process). */
  stop(): Promise<void>;
}

@Global()
@Module({})
class ServiceRuntimeModule {
  static forRoot(logger: Logger, readiness: Readiness, metrics: ServiceMetrics): DynamicModule {
    return {
      module: ServiceRuntimeModule,
      controllers: [ProbesController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: Readiness, useValue: readiness },
        { provide: ServiceMetrics, useValue: metrics },
      ],
      exports: [LOGGER, Readiness, ServiceMetrics],
    };
  }
}

const COMMON_HELP = `
Common environment:
  CANOPY_HTTP_PORT       port for /healthz, /readyz, /metrics (and the app's API)
  CANOPY_HTTP_HOST       address to listen on (default 0.0.0.0)
  CANOPY_LOG_LEVEL       trace|debug|info|warn|error (default info)
Signals: SIGTERM/SIGINT stop intake, finish or hand back in-flight work, exit 0.`;

/**
 * Process warnings go to the JSON log, except kafkajs 2.2.4's TimeoutNegativeWarning (it
 * schedules a timer with a negative delay, which Node 24 clamps to 1 ms: harmless, and it would
 * otherwise be printed as plain text among JSON log lines).
 */
function routeProcessWarnings(name: string): void {
  const log = createLogger({ name });
  process.removeAllListeners('warning');
  process.on('warning', (w: Error) => {
    if (w.name === 'TimeoutNegativeWarning') return;
    log.warn({ warning: { name: w.name, message: w.message } }, 'process warning');
  });
}

/**
 * An error nothing caught (a failed start-up step awaited at the top of main.ts, a rejected
 * promise nobody awaited) ends the process with one JSON log line that names it, and exit 1,
 * instead of Node's raw stack trace among the JSON lines.
 */
function exitOnFatal(name: string): void {
  const log = createLogger({ name });
  const fatal = (kind: string) => (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    log.fatal({ err: e, errorType: (e as { type?: string }).type ?? e.name }, `${name} stopped on an ${kind}: ${e.message}`);
    log.flush?.();
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught error'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
}

/** Print --help and exit when asked; route process warnings and fatal errors to the log. Call first in main.ts. */
export function handleHelp(name: string, help: string, argv = process.argv): void {
  routeProcessWarnings(name);
  exitOnFatal(name);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${name}\n\n${help.trim()}\n${COMMON_HELP}\n`);
    process.exit(0);
  }
}

/**
 * Boot one Canopy app: its module plus the shared probes (/healthz, /readyz, /metrics), JSON
 * logging, and a SIGTERM handler that drains, closes every module (consumers stop and commit
 * only what they finished) and exits 0.
 */
export async function runService(options: ServiceOptions): Promise<RunningService> {
  handleHelp(options.name, options.help);
  const logger = options.logger ?? createLogger({ name: options.name });
  const readiness = new Readiness();
  const metrics = new ServiceMetrics(options.name);

  @Module({ imports: [ServiceRuntimeModule.forRoot(logger, readiness, metrics), options.module] })
  class RootModule {}

  const app = await NestFactory.create(RootModule, { logger: new NestLoggerAdapter(logger), abortOnError: false });
  const port = Number(process.env.CANOPY_HTTP_PORT ?? options.defaultPort);
  const host = options.host ?? process.env.CANOPY_HTTP_HOST ?? '0.0.0.0';
  await app.listen(port, host);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  logger.info({ url }, `${options.name} listening`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      readiness.drain();
      const timeout = options.shutdownTimeoutMs ?? 25_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        app.close(),
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`shutdown took longer than ${timeout} ms`)), timeout);
          timer.unref();
        }),
      ]).finally(() => clearTimeout(timer));
    })());

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, `${options.name} stopping`);
      stop().then(
        () => {
          logger.info(`${options.name} stopped cleanly`);
          logger.flush?.();
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, `${options.name} did not stop cleanly`);
          process.exit(1);
        },
      );
    });
  }
  return { app, url, logger, stop };
}
