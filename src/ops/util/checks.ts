import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';

/** The input of an image op: live and rank 4 [N, C, H, W]. */
export function checkImage(op: string, x: Tensor): void {
  x.assertLive(op);
  if (x.rank !== 4) fail(op, `input must be rank 4 [N, C, H, W], got ${shapeStr(x.shape)}`);
}
