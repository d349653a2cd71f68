import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(new URL('../../..', import.meta.url).pathname);

/** The last lines of a process log (its error record, usually), for an error message. */
export function logTail(logFile: string, lines = 6, maxChars = 1500): string {
  try {
    const text = readFileSync(logFile, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n').slice(-maxChars) || '(empty log)';
  } catch (err) {
    return `(log unreadable: ${(err as Error).message})`;
  }
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Base URL from the app's "listening" log line, when it has one. */
  url?: string;
  exited: Promise<number | string>;
}

/**
 * The demo's processes: every app runs as its own OS process (as in production), its JSON log
 * in a file; stopping sends SIGTERM to all and waits for clean exits.
 */
export class ProcessGroup {
  readonly #procs: ManagedProcess[] = [];

  constructor(private readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  start(name: string, script: string, env: Record<string, string>, args: string[] = []): ManagedProcess {
    const path = resolve(REPO_ROOT, script);
    if (!existsSync(path)) throw new Error(`${path} is missing: build first (scripts/build)`);
    const logFile = join(this.logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, ['--enable-source-maps', path, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Both streams into one file: neither may end it while the other still writes.
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const exited = new Promise<number | string>((res) =>
      child.once('close', (code, signal) => log.end(() => res(code ?? signal ?? -1))),
    );
    const proc: ManagedProcess = { name, child, logFile, exited };
    this.#procs.push(proc);
    return proc;
  }

  /** Start a Nest app on an ephemeral port and wait for its "listening" line. */
  async startApp(name: string, app: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ManagedProcess> {
    const proc = this.start(name, `apps/${app}/dist/main.js`, { CANOPY_HTTP_PORT: '0', CANOPY_HTTP_HOST: '127.0.0.1', ...env });
    proc.url = await new Promise<string>((res, rej) => {
      let buf = '';
      const timer = setTimeout(() => {
        proc.child.kill('SIGKILL'); // not listening in time: useless, and must not linger
        rej(new Error(`${name} did not start within ${timeoutMs} ms (log: ${proc.logFile})`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        for (const line of buf.split('\n')) {
          if (!line.includes('listening')) continue;
          try {
            const rec = JSON.parse(line) as { url?: string };
            if (rec.url) {
              clearTimeout(timer);
              res(rec.url);
            }
          } catch {
            // partial line
          }
        }
      };
      proc.child.stdout!.on('data', onData);
      void proc.exited.then((code) => {
        clearTimeout(timer);
        // The cause is in the log's last lines: say it here, where CI shows it.
        rej(new Error(`${name} exited (${code}) before listening (log: ${proc.logFile}); it said: ${logTail(proc.logFile)}`));
      });
    });
    return proc;
  }

  /** Every process started so far (restarted ones appear once per start). */
  list(): ManagedProcess[] {
    return [...this.#procs];
  }

  async stopAll(timeoutMs = 30_000): Promise<Array<{ name: string; code: number | string }>> {
    const live = this.#procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    for (const p of [...live].reverse()) p.child.kill('SIGTERM');
    const results = await Promise.all(
      live.map(async (p) => {
        const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
        const code = await p.exited;
        clearTimeout(timer);
        return { name: p.name, code };
      }),
    );
    return results;
  }
}
