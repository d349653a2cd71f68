import { Module } from '@nestjs/common';

/** The transformer stage. Its providers start their work in onApplicationBootstrap and stop in onModuleDestroy. */
@Module({})
export class TransformerModule {}
