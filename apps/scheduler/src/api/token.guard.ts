import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Secret } from '@canopy/config';

export const CONTROL_TOKEN = Symbol.for('canopy.scheduler.control-token');

/** Every control API call carries `Authorization: Bearer <token>`; compared in constant time. */
@Injectable()
export class TokenGuard implements CanActivate {
  readonly #expected: Buffer;
  constructor(@Inject(CONTROL_TOKEN) token: Secret) {
    this.#expected = Buffer.from(token.reveal(), 'utf8');
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    const given = Buffer.from(match?.[1] ?? '', 'utf8');
    if (given.length !== this.#expected.length || !timingSafeEqual(given, this.#expected)) {
      throw new UnauthorizedException({ error: { code: 'Unauthorized', message: 'a valid bearer token is required' } });
    }
    return true;
  }
}
