export { ProcessGroup, type ManagedProcess } from './process-group.js';
export { startPipeline, sampleConfigYaml, type Pipeline, type PipelineOptions, type EmulatorInfo, type AppCredentials, type SampleConfigOptions } from './pipeline.js';
export { dropNamespace } from './namespace.js';
