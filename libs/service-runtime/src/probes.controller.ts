import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ServiceMetrics } from './metrics.js';
import { Readiness } from './readiness.js';

/** Liveness, readiness and Prometheus metrics: the same three endpoints on every app. */
@Controller()
export class ProbesController {
  constructor(
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok'; service: string; uptimeSeconds: number } {
    return { status: 'ok', service: this.metrics.stage, uptimeSeconds: Math.round(process.uptime()) };
  }

  @Get('readyz')
  readyz(@Res() res: Response): void {
    const report = this.readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
