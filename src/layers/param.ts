// Params live with the modules in src/nn; this path stays for the flow layers' imports.
export { ModuleBuffer, Param, TensorSlot } from '../nn/param.js';
