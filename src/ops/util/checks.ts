import { fail, shapeStr } from '../../engine/errors.js';
import { Tensor } from '../../engine/tensor.js';

/** The input of an image op: live and rank 4 [N, C, H, W]. */
export function checkImage(op: string, x: Tensor): void {
  x.assertLive(op);
  if (x.rank !== 4) fail(op, `input must be rank 4 [N, C, H, W], got ${shapeStr(x.shape)}`);
}

/** A live tensor: numbers, arrays and disposed tensors fail with one line naming the op. */
export function checkTensor(op: string, x: unknown, what = 'input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) fail(op, `${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  x.assertLive(op);
}
