import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readStackInfo, repoRoot, type StackInfo } from '@canopy/stack';

/**
 * The chaos suite's own Kafka broker, Redis and Samba DC: the same launchers as `scripts/stack`
 * (tools/stack/lib), on other ports, another loopback address and another state dir, so the
 * suite may restart and wipe them while other suites use the shared stack.
 */
export interface PrivateStackProfile {
  stateDir: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  redisPort: number;
  /** key|realm|netbios|ip|dc host name, as tools/stack/lib/common.sh's FORESTS. */
  forestSpec: string;
}

/**
 * The seeded large group holds every user: 20,000 members are a ~2 MB event, above Kafka's default
 * 1 MB and the reader's 900 KB limit. The private broker takes 8 MB and the chaos readers 4 MB
 * (a deployment with such groups raises both the same way).
 */
export const PRIVATE_KAFKA_MESSAGE_MAX_BYTES = 8 * 1024 * 1024;
export const CHAOS_READER_MAX_EVENT_BYTES = 4_000_000;

const stateRoot = () => join(homedir(), '.local', 'state');

/** The full run (scripts/chaos) and the shortened one (the vitest suite) never share a stack. */
export const PROFILES = {
  full: {
    stateDir: join(stateRoot(), 'canopy-chaos'),
    kafkaPort: 29092,
    kafkaControllerPort: 29093,
    redisPort: 26379,
    forestSpec: 'chaos|chaos.example.test|CHAOS|127.0.0.4|chaosdc',
  },
  test: {
    stateDir: join(stateRoot(), 'canopy-chaos-test'),
    kafkaPort: 29192,
    kafkaControllerPort: 29193,
    redisPort: 26479,
    forestSpec: 'chaos|chaos.example.test|CHAOS|127.0.0.5|chaosdc',
  },
} satisfies Record<string, PrivateStackProfile>;

export class PrivateStack {
  readonly logFile: string;

  constructor(
    readonly profile: PrivateStackProfile,
    logDir: string,
  ) {
    mkdirSync(logDir, { recursive: true });
    this.logFile = join(logDir, 'private-stack.log');
  }

  get forestKey(): string {
    return this.profile.forestSpec.split('|')[0]!;
  }

  env(): Record<string, string> {
    const p = this.profile;
    return {
      CANOPY_STACK_DIR: p.stateDir,
      CANOPY_STACK_KAFKA_PORT: String(p.kafkaPort),
      CANOPY_STACK_KAFKA_CONTROLLER_PORT: String(p.kafkaControllerPort),
      CANOPY_STACK_REDIS_PORT: String(p.redisPort),
      CANOPY_STACK_FOREST_SPECS: p.forestSpec,
      CANOPY_STACK_KAFKA_MESSAGE_MAX_BYTES: String(PRIVATE_KAFKA_MESSAGE_MAX_BYTES),
    };
  }

  /** Run tools/chaos/lib/private-stack.sh; output goes to the log file; rejects on failure. */
  run(...args: string[]): Promise<void> {
    const script = join(repoRoot, 'tools', 'chaos', 'lib', 'private-stack.sh');
    appendFileSync(this.logFile, `\n$ private-stack.sh ${args.join(' ')}  (${new Date().toISOString()})\n`);
    return new Promise((resolve, reject) => {
      const child = spawn('bash', [script, ...args], { cwd: repoRoot, env: { ...process.env, ...this.env() }, stdio: ['ignore', 'pipe', 'pipe'] });
      let tail = '';
      const keep = (chunk: Buffer) => {
        appendFileSync(this.logFile, chunk);
        tail = (tail + chunk.toString('utf8')).slice(-2000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`private-stack.sh ${args.join(' ')} exited ${code}: ${tail.trim().split('\n').slice(-5).join(' | ')}`))));
    });
  }

  /** Bring the stack up with the forest seeded with `users` users (a cached copy when there is one). */
  async up(users: number): Promise<StackInfo> {
    await this.run('up', '--users', String(users), '--seed', '1');
    return readStackInfo(join(this.profile.stateDir, 'stack.json'));
  }

  restartKafka(unclean: boolean): Promise<void> {
    return this.run(unclean ? 'kafka-kill' : 'kafka-restart');
  }

  wipeRedis(): Promise<void> {
    return this.run('redis-wipe');
  }

  restartDc(): Promise<void> {
    return this.run('dc-restart', this.forestKey);
  }

  down(): Promise<void> {
    return this.run('down');
  }
}
