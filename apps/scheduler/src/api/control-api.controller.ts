import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import { assertForestName, isGuidString } from '@canopy/contracts';
import { InputError, NotFoundError } from '@canopy/errors';
import { finalAck } from '../commands/command-bus.js';
import { controlKeys } from '../status/status.service.js';
import { SCHEDULER_CORE, type SchedulerCore } from '../scheduler-core.js';
import { ErrorFilter } from './error.filter.js';
import { TokenGuard } from './token.guard.js';

function forestParam(forest: string): string {
  try {
    return assertForestName(forest);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}

function requireText(body: { text?: unknown }): string {
  if (typeof body?.text !== 'string' || !body.text.trim()) throw new InputError("body.text: the configuration file's content is required");
  return body.text;
}

/** The control API the `canopy` CLI talks to. OpenAPI description: GET /v1/openapi.json. */
@Controller('v1')
@UseGuards(TokenGuard)
@UseFilters(ErrorFilter)
export class ControlApiController {
  constructor(@Inject(SCHEDULER_CORE) private readonly core: SchedulerCore) {}

  @Get('status')
  status() {
    return this.core.status.status();
  }

  @Get('config')
  config() {
    return this.core.configApply.current();
  }

  @Post('config/diff')
  @HttpCode(200)
  diff(@Body() body: { text?: string }) {
    return this.core.configApply.apply(requireText(body), 'diff', true);
  }

  @Post('config/apply')
  @HttpCode(200)
  apply(@Body() body: { text?: string; appliedBy?: string; dryRun?: boolean }) {
    return this.core.configApply.apply(requireText(body), body.appliedBy ?? 'canopy-cli', body.dryRun === true);
  }

  async #command(command: 'FULL_SYNC' | 'PAUSE' | 'RESUME', forest: string, issuedBy: string, timeoutMs = 10_000) {
    const sent = await this.core.commands.send({ command, forest: forestParam(forest), issuedBy });
    const { acks, timedOut } = await this.core.commands.waitFor(sent.commandId, finalAck('ad-reader'), timeoutMs);
    return { command: sent, acks, timedOut };
  }

  @Post('forests/:forest/full-sync')
  @HttpCode(200)
  fullSync(@Param('forest') forest: string, @Body() body: { issuedBy?: string }) {
    return this.#command('FULL_SYNC', forest, body?.issuedBy ?? 'canopy-cli');
  }

  @Post('forests/:forest/pause')
  @HttpCode(200)
  async pause(@Param('forest') forest: string, @Body() body: { issuedBy?: string }) {
    await this.core.redis.set(controlKeys.paused(forestParam(forest)), new Date().toISOString());
    return this.#command('PAUSE', forest, body?.issuedBy ?? 'canopy-cli');
  }

  @Post('forests/:forest/resume')
  @HttpCode(200)
  async resume(@Param('forest') forest: string, @Body() body: { issuedBy?: string }) {
    await this.core.redis.del(controlKeys.paused(forestParam(forest)));
    return this.#command('RESUME', forest, body?.issuedBy ?? 'canopy-cli');
  }

  @Post('forests/:forest/clear-quarantine')
  @HttpCode(200)
  async clearQuarantine(@Param('forest') forest: string, @Body() body: { issuedBy?: string }) {
    const name = forestParam(forest);
    const was = await this.core.redis.get(controlKeys.quarantine(name));
    if (!was) throw new NotFoundError(`forest ${name} is not quarantined`);
    await this.core.redis.del(controlKeys.quarantine(name), controlKeys.paused(name));
    await this.core.commands.send({ command: 'CLEAR_QUARANTINE', forest: name, issuedBy: body?.issuedBy ?? 'canopy-cli' });
    return this.#command('RESUME', name, body?.issuedBy ?? 'canopy-cli');
  }

  /**
   * Provision on demand: the forest's active reader reads the object now and sends it through the
   * pipeline; we answer with the object's result once the writer (or the transformer) has one.
   */
  @Post('provision')
  @HttpCode(200)
  async provision(@Body() body: { forest?: string; target?: string; timeoutSeconds?: number; issuedBy?: string }) {
    const forest = forestParam(body?.forest ?? '');
    if (!body?.target) throw new InputError('body.target: a DN or objectGUID is required');
    const timeoutMs = Math.min((body.timeoutSeconds ?? 60) * 1000, 300_000);
    const deadline = Date.now() + timeoutMs;
    const sent = await this.core.commands.send({ command: 'PROVISION', forest, target: body.target, issuedBy: body.issuedBy ?? 'canopy-cli' });
    const { acks, timedOut } = await this.core.commands.waitFor(sent.commandId, finalAck('ad-reader'), timeoutMs);
    const readerAck = acks.find((a) => a.stage === 'ad-reader' && a.status !== 'ACCEPTED');
    if (timedOut || !readerAck || readerAck.status !== 'COMPLETED') {
      return { command: sent, acks, timedOut, result: null };
    }
    const id = readerAck.details.objectGuid ?? (isGuidString(body.target) ? body.target : null);
    while (Date.now() < deadline) {
      const key = id ?? (await this.core.provisioningLog.findByDn(forest, readerAck.details.dn ?? body.target));
      const latest = key ? await this.core.provisioningLog.latest(forest, key) : null;
      if (latest && new Date(latest.at) >= sent.issuedAt && latest.stage !== 'READER') {
        return { command: sent, acks, timedOut: false, result: latest };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return { command: sent, acks, timedOut: true, result: null };
  }

  @Get('commands/:id')
  commandAcks(@Param('id') id: string) {
    return { commandId: id, acks: this.core.commands.acks(id) };
  }

  /** Latest outcome of one object, by DN or objectGUID. */
  @Get('objects')
  async object(@Query('forest') forest: string, @Query('target') target: string) {
    const name = forestParam(forest ?? '');
    if (!target) throw new InputError('target: a DN or objectGUID is required');
    const id = isGuidString(target) ? target.toLowerCase() : await this.core.provisioningLog.findByDn(name, target);
    const latest = id ? await this.core.provisioningLog.latest(name, id) : null;
    if (!latest) throw new NotFoundError(`no result recorded for ${target} in ${name}`);
    return latest;
  }

  /** The object's journey: AD snapshot, scoping decision and rule, mapped attributes, Graph result. */
  @Get('explain')
  explainObject(@Query('forest') forest: string, @Query('target') target: string) {
    if (!target) throw new InputError('target: a DN or objectGUID is required');
    return this.core.explain.explain(forestParam(forest ?? ''), target);
  }

  /** What would be written for the object under the current configuration; nothing is written. */
  @Get('preview')
  async preview(@Query('forest') forest: string, @Query('target') target: string) {
    if (!target) throw new InputError('target: a DN or objectGUID is required');
    const j = await this.core.explain.explain(forestParam(forest ?? ''), target);
    return { forest: j.forest, target, dn: j.snapshot.dn, configVersion: j.configVersion, scoping: j.scoping, decision: j.decision, mapped: j.mapped, members: j.members };
  }

  @Post('replay')
  @HttpCode(202)
  replay(@Body() body: { forest?: string; from?: string }) {
    if (!body?.from) throw new InputError('body.from: a time (ISO 8601, or 2h/3d ago) or an offset is required');
    return this.core.replay.start(forestParam(body.forest ?? ''), body.from);
  }

  @Get('replay/:id')
  replayStatus(@Param('id') id: string) {
    return this.core.replay.get(id);
  }

  @Get('deletes')
  heldDeletes(@Query('forest') forest: string) {
    return this.core.provisioningLog.heldObjects(forestParam(forest ?? ''));
  }

  @Post('deletes/:decision')
  @HttpCode(200)
  async decideDeletes(@Param('decision') decision: string, @Body() body: { forest?: string; issuedBy?: string; timeoutSeconds?: number }) {
    if (decision !== 'approve' && decision !== 'reject') throw new InputError('decision must be approve or reject');
    const forest = forestParam(body?.forest ?? '');
    const sent = await this.core.commands.send({
      command: decision === 'approve' ? 'APPROVE_DELETES' : 'REJECT_DELETES',
      forest,
      issuedBy: body?.issuedBy ?? 'canopy-cli',
    });
    const { acks, timedOut } = await this.core.commands.waitFor(sent.commandId, finalAck('graph-writer'), Math.min((body?.timeoutSeconds ?? 30) * 1000, 300_000));
    return { command: sent, acks, timedOut };
  }

  @Get('dlq')
  dlq(@Query('limit') limit?: string, @Query('stage') stage?: string, @Query('all') all?: string) {
    return this.core.deadLetters.list({ limit: Math.min(Number(limit ?? 100), 1000), ...(stage ? { stage } : {}), includeRetried: all === 'true' });
  }

  @Post('dlq/retry')
  @HttpCode(200)
  dlqRetry(@Body() body: { ids?: string[] | 'all' }) {
    return this.core.deadLetters.retry(body?.ids ?? []);
  }

  @Get('failures')
  failures(@Query('forest') forest: string, @Query('limit') limit?: string) {
    return this.core.provisioningLog.recentFailures(forestParam(forest ?? ''), Math.min(Number(limit ?? 20), 200));
  }
}

