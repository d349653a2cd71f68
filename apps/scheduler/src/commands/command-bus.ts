import { randomUUID } from 'node:crypto';
import { TOPICS, codecs, keys, type CommandAck, type CommandType, type ControlCommand } from '@canopy/contracts';
import type { KafkaClient, KafkaConsumer, KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';

export interface CommandRequest {
  command: CommandType;
  forest?: string | null;
  target?: string | null;
  args?: Record<string, string>;
  issuedBy: string;
}

/**
 * Sends admin commands on canopy.control and collects every stage's acknowledgement from
 * canopy.control.acks, so each command answers with its outcome.
 */
export class CommandBus {
  readonly #acks = new Map<string, CommandAck[]>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #consumer: KafkaConsumer | undefined;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: KafkaProducer,
    private readonly log: Logger,
    private readonly instanceId: string,
  ) {}

  async start(): Promise<void> {
    this.#consumer = this.kafka.consumer({ groupId: `canopy-scheduler-acks-${this.instanceId}` });
    await this.#consumer.subscribe({ topics: [TOPICS.controlAcks.name], fromBeginning: false });
    await this.#consumer.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        try {
          const ack = codecs.commandAck.decode(m.value);
          const list = this.#acks.get(ack.commandId) ?? [];
          list.push(ack);
          this.#acks.set(ack.commandId, list);
          if (this.#acks.size > 10_000) this.#acks.delete(this.#acks.keys().next().value!);
          for (const wake of this.#waiters.get(ack.commandId) ?? []) wake();
        } catch (err) {
          this.log.warn({ err, offset: m.offset }, 'ignoring undecodable command ack');
        }
        ctx.resolveOffset(m.offset);
      }
    });
  }

  async send(request: CommandRequest): Promise<ControlCommand> {
    const command: ControlCommand = {
      commandId: randomUUID(),
      command: request.command,
      forest: request.forest ?? null,
      target: request.target ?? null,
      args: request.args ?? {},
      issuedBy: request.issuedBy,
      issuedAt: new Date(),
    };
    await this.producer.send(TOPICS.control.name, [
      { key: keys.controlCommand(command.commandId), value: codecs.controlCommand.encode(command) },
    ]);
    this.log.info({ commandId: command.commandId, command: command.command, forest: command.forest }, 'command sent');
    return command;
  }

  acks(commandId: string): CommandAck[] {
    return this.#acks.get(commandId) ?? [];
  }

  /**
   * Wait until `done(acks)` is true (e.g. a COMPLETED ack from the reader) or the timeout passes;
   * returns the acks seen either way.
   */
  async waitFor(commandId: string, done: (acks: CommandAck[]) => boolean, timeoutMs: number): Promise<{ acks: CommandAck[]; timedOut: boolean }> {
    if (done(this.acks(commandId))) return { acks: this.acks(commandId), timedOut: false };
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(commandId) ?? new Set();
      this.#waiters.set(commandId, waiters);
      const finish = (timedOut: boolean) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (!waiters.size) this.#waiters.delete(commandId);
        resolve({ acks: this.acks(commandId), timedOut });
      };
      const check = () => {
        if (done(this.acks(commandId))) finish(false);
      };
      const timer = setTimeout(() => finish(true), timeoutMs);
      waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    await this.#consumer?.stop();
  }
}

/** True once some stage reported a final status (COMPLETED, REJECTED or FAILED). */
export const finalAck = (stage?: string) => (acks: CommandAck[]) =>
  acks.some((a) => (stage === undefined || a.stage === stage) && a.status !== 'ACCEPTED');
