export interface ScheduleConfig {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from 0 to lr. */
  warmupSteps: number;
  /** Multiplicative decay per step after warm-up (1 = constant). */
  decay: number;
}

/** Linear warm-up then exponential decay, as the FInC and Glow training scripts do. */
export function learningRate(s: ScheduleConfig, step: number): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  return s.lr * s.decay ** (step - s.warmupSteps);
}
