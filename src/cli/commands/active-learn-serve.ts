/** `inflow active-learn --serve`: the annotation page (src/active/annotate/, docs/active-learning.md §7). */
import { join } from 'node:path';
import type { ActiveData } from '../../active/data.js';
import { defaultRetrain } from '../../active/learner.js';
import { AnnotationSession } from '../../active/annotate/session.js';
import { serveAnnotation } from '../../active/annotate/serve.js';
import { InflowError } from '../../engine/errors.js';
import { defaultSeedClassifier } from '../../models/seed-classifier/config.js';
import { engineOptions } from '../engine-option.js';
import { checkFolder, prepareOutput } from '../paths.js';
import { UserError } from '../user-error.js';
import type { ActiveFlags } from './active-learn.js';

export async function serveAnnotationPage(flags: ActiveFlags, acquisitionDefaulted: boolean, loadData: (f: ActiveFlags) => Promise<ActiveData>): Promise<void> {
  // Experiment-only flags would be silently ignored: refuse them instead.
  if (flags.budgets !== undefined || flags.rounds !== undefined) throw new UserError('--serve: --budgets and --rounds are for experiments; the person labelling decides when to stop (--batch sets the batch size)');
  if (flags.repeats !== 1) throw new UserError('--serve: --repeats is for experiments; one session has one seed');
  const acquisition = acquisitionDefaulted ? 'batchbald' : flags.acquisition[0]!;
  if (!acquisitionDefaulted && flags.acquisition.length !== 1) throw new UserError(`--serve: give one acquisition function, not ${flags.acquisition.join(', ')}`);
  if (flags.port > 65535) throw new UserError(`--port ${flags.port}: expected a port number 0…65535`);
  checkFolder('--out', flags.out);
  const labelsPath = join(flags.out, 'labels.json');
  prepareOutput('--out', labelsPath);
  const data = await loadData(flags);
  const batch = flags.batch ?? 10;
  const pool = data.pool.count;
  if (flags.initial > pool) throw new UserError(`--initial ${flags.initial} is more than the ${pool} images of the pool (${data.description})`);
  if (batch > pool) throw new UserError(`--batch ${batch} is more than the ${pool} images of the pool (${data.description})`);
  let session: AnnotationSession;
  try {
    session = new AnnotationSession({
      data, labelsPath, acquisition, initial: flags.initial, batch,
      classifier: { ...defaultSeedClassifier, arch: flags.arch, inputShape: [...data.pool.shape] as [number, number, number], classes: data.classNames.length },
      retrain: { steps: flags.steps, batch: flags.trainBatch, lr: flags.lr, shift: defaultRetrain.shift }, mcPasses: flags.mcSamples, jointSamples: flags.jointSamples,
      seed: flags.seed, engine: engineOptions(flags),
    });
  } catch (e) {
    if (e instanceof InflowError) throw new UserError(`--out ${flags.out}: ${e.message}`);
    throw e;
  }
  console.log(`${data.description}: pool ${pool}, held-out ${data.test.count}, classes ${data.classNames.join(', ')}; ${acquisition}, batches of ${batch}${session.resumed ? `; resuming with ${session.resumed} labels from ${labelsPath}` : ''}`);
  try {
    await serveAnnotation(session, flags.host, flags.port);
  } catch (e) {
    if (e instanceof InflowError) throw new UserError(e.message);
    throw e;
  }
}
