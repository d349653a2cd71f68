import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';

export type Logger = PinoLogger;

/**
 * Keys whose values are secrets wherever they appear in a log record. Redaction is by key, at
 * any depth up to the listed paths, so a secret passed inside a config object is still hidden.
 */
export const SECRET_KEYS = [
  'password',
  'bindPassword',
  'clientSecret',
  'client_secret',
  'privateKey',
  'private_key',
  'token',
  'accessToken',
  'access_token',
  'authorization',
  'Authorization',
  'secret',
  'apiToken',
  'cookie',
  'client_assertion',
  'sasl',
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    paths.push(key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`);
  }
  return paths;
}

export interface CreateLoggerOptions {
  /** Service or module name, shown as `service`. */
  name: string;
  level?: string;
  /** Destination stream; defaults to stdout. Tests pass a buffer to grep what was emitted. */
  destination?: NodeJS.WritableStream;
}

/** One logger for the whole project: JSON lines, ISO time, secrets redacted by key. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.CANOPY_LOG_LEVEL ?? 'info',
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(config, options.destination as never) : pino(config);
}
