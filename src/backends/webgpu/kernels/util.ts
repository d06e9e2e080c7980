import type { View } from '../../backend.js';
import type { WebGPUStorage } from '../runtime.js';

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const st = (v: View): WebGPUStorage => v.storage as WebGPUStorage;

export { strides } from '../../strides.js';
