import { Module } from '@nestjs/common';

/** The ad-reader stage. Its providers start their work in onApplicationBootstrap and stop in onModuleDestroy. */
@Module({})
export class AdReaderModule {}
