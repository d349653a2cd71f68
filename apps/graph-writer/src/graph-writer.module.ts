import { Module } from '@nestjs/common';

/** The graph-writer stage. Its providers start their work in onApplicationBootstrap and stop in onModuleDestroy. */
@Module({})
export class GraphWriterModule {}
