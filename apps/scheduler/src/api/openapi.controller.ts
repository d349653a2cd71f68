import { readFileSync } from 'node:fs';
import { Controller, Get } from '@nestjs/common';

const SPEC = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as unknown;

/** The control API's OpenAPI description (no token needed to read it). */
@Controller('v1')
export class OpenApiController {
  @Get('openapi.json')
  spec(): unknown {
    return SPEC;
  }
}
