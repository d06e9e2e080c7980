export { reshape, sumTo } from './shape-ops.js';
