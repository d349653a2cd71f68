export { ProcessGroup, type ManagedProcess } from './process-group.js';
