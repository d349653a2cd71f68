import { Module } from '@nestjs/common';
import { WriterService } from './writer.service.js';

/** The graph-writer stage. Its providers start their work in onApplicationBootstrap and stop in onModuleDestroy. */
@Module({ providers: [WriterService] })
export class GraphWriterModule {}
