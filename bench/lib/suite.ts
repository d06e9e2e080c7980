import type { PeakMeter } from '../peak.js';
import type { Table } from './report.js';

export interface SuiteContext {
  /** Sample it between rows; read gflopsPerCore only once every row is in (it only rises). */
  peak: PeakMeter;
  /** os.availableParallelism(): the "all threads" runs. */
  threadsAll: number;
  /** --quick: a smoke run (few reps, slow backends on small shapes only); its JSON says so. */
  quick: boolean;
}

export interface SuiteResult {
  tables: Table[];
  data: Record<string, unknown>;
}

export interface Suite {
  name: string;
  about: string;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}

/** A section's rows are measured first; its tables and "% of peak" wait for the run's final peak. */
export type Finish = (peakGflopsPerCore: number) => SuiteResult;
