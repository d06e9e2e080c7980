// The training API (Node: checkpoints and logs are files).
export { loadCheckpoint, saveCheckpoint, type Checkpoint, type TrainState } from './checkpoint.js';
export { Ema } from './ema.js';
export {
  checkpointPath, defaultLoopOptions, runTraining, TrainingDiverged, type EpochSummary, type LoopCallbacks, type LoopOptions,
  type LoopResult, type ParamGroup, type StepContext, type StepMetrics, type StepOutcome, type TrainData, type TrainingTask, type UpdateResult,
} from './loop.js';
export { Adam, Adamax, AdamW, Optimizer, SGD, type OptimizerConfig, type OptimizerKind } from './optimizer.js';
export { learningRate, type ScheduleConfig } from './schedule.js';
export { AutoencoderTask, mseLoss, reconstructionError, type Autoencoder, type AutoencoderTaskOptions } from './tasks/autoencoder.js';
export { ClassifierTask } from './tasks/classifier.js';
export { DiffusionTask, type Denoiser, type DiffusionTaskOptions } from './tasks/diffusion.js';
export { GanTask, type Discriminator, type GanLoss, type GanModel, type GanTaskOptions, type Generator } from './tasks/gan.js';
export { ConditionalGanTask, type ConditionalGanTaskOptions } from './tasks/conditional-gan.js';
export { FlowTask } from './tasks/flow.js';
export { imageTensorData, tensorData, type TensorData } from './tensor-data.js';
export { pairedTensorData, type Conditioner, type PairedTensorData } from './paired-data.js';
export { inpaintingConditioner, lowResolutionConditions, restorationConditioner, superResolutionConditioner } from './conditioners/index.js';
export { train, type TrainOptions } from './trainer.js';
export { evaluateBitsPerDim, evaluateWithClasses, type BatchScorer } from './evaluate.js';
