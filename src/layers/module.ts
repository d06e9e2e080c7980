// Flow layers are modules of src/nn: one Module with parameters, buffers, train/eval mode and a state dict.
export { Module, type LoadStateOptions, type StateDict, type StateEntry } from '../nn/module.js';
