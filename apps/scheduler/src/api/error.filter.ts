import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { CanopyError, httpStatusOf } from '@canopy/errors';
import type { Response } from 'express';

/** Maps the error taxonomy to HTTP at the edge: { error: { type, message, retriable, details } }. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (err instanceof HttpException) {
      const body = err.getResponse();
      res.status(err.getStatus()).json(typeof body === 'object' ? body : { error: { message: body } });
      return;
    }
    if (err instanceof CanopyError) {
      res.status(httpStatusOf(err)).json({ error: err.toJSON() });
      return;
    }
    res.status(500).json({ error: { type: 'Internal', message: (err as Error)?.message ?? String(err) } });
  }
}
