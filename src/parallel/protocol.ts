import type { HostTensor, ProgramArgs, ProgramName, ReplicaSpec, ShardResult } from './programs.js';

/** A state dict in a message: [name, tensor] pairs (parameters and buffers). */
export type StateEntries = Array<[string, HostTensor]>;

export interface ReplicaWorkerInit { spec: ReplicaSpec; state: StateEntries; index: number }

export type ToReplica =
  | { type: 'state'; state: StateEntries }
  | { [K in ProgramName]: { type: 'run'; id: number; program: K; args: ProgramArgs[K]; training: boolean } }[ProgramName]
  | { type: 'close' };

export type FromReplica =
  | { type: 'ready' }
  | { type: 'done'; id: number; result: ShardResult }
  | { type: 'error'; id: number; error: string }
  | { type: 'failed'; error: string };
