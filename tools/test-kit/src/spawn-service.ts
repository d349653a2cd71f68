import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The repository root (tests run from a project's folder). */
export const REPO_ROOT = resolve(new URL('../../..', import.meta.url).pathname);

export interface SpawnedService {
  process: ChildProcess;
  /** Base URL of the app's HTTP server, from its "listening" log line. */
  url: string;
  /** Every stdout/stderr line so far (JSON log lines). */
  lines: string[];
  /** Send a signal and resolve with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  exited: Promise<number | string>;
}

/**
 * Start a built app (`apps/<name>/dist/main.js`) as a real process on an ephemeral port and wait
 * until it logs that it listens.
 */
export async function spawnService(
  name: string,
  env: Record<string, string> = {},
  options: { timeoutMs?: number; args?: string[] } = {},
): Promise<SpawnedService> {
  const main = resolve(REPO_ROOT, 'apps', name, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx tsc -b tsconfig.build.json)`);
  const child = spawn(process.execPath, ['--enable-source-maps', main, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, CANOPY_HTTP_PORT: '0', CANOPY_HTTP_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | string>((res) => child.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a half-started process behind
      rej(new Error(`${name} did not start within ${options.timeoutMs ?? 20_000} ms:\n${lines.join('\n')}`));
    }, options.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(line);
        try {
          const rec = JSON.parse(line) as { url?: string; msg?: string };
          if (rec.url && rec.msg?.endsWith('listening')) {
            clearTimeout(timer);
            res(rec.url);
          }
        } catch {
          // not JSON: keep it for diagnostics
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited (${code}) before listening:\n${lines.join('\n')}`));
    });
  });
  return {
    process: child,
    url,
    lines,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
