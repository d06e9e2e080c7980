import type { Engine } from '../engine/engine.js';
import { loadModel } from '../io/model-file.js';
import type { FlowModel } from '../models/flow-model.js';
import { UserError } from './user-error.js';

/**
 * Loads a model file; any problem with the file is reported as the user's, in one line — the same
 * line `inflow inspect` prints for it, since both run the checks of src/io/model-bytes.ts.
 */
export async function openModel(path: string, engine: Engine): Promise<FlowModel> {
  try {
    return await loadModel(path, { engine });
  } catch (e) {
    throw new UserError(e instanceof Error ? e.message : String(e));
  }
}
