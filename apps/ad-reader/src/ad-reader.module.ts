import { Module } from '@nestjs/common';
import { ReaderService } from './reader.service.js';

/** The ad-reader stage. Its providers start their work in onApplicationBootstrap and stop in onModuleDestroy. */
@Module({ providers: [ReaderService] })
export class AdReaderModule {}
