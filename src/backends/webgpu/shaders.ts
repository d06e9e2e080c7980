import { wgslKernels } from '../../../bindings/generated/wgsl.js';

/**
 * The WGSL module of a kernel with its compile-time variants filled in. Placeholders are {{NAME}};
 * the result is the pipeline cache key, so equal variants share one pipeline.
 */
export function shader(kernel: string, subs: Record<string, string> = {}): string {
  const base = wgslKernels[kernel];
  if (base === undefined) throw new Error(`no WGSL kernel named ${kernel} (run npm run asbuild)`);
  // Comments may name placeholders; only code lines are substituted.
  return base.split('\n').map((line) => (line.trimStart().startsWith('//') ? line : line.replace(/\{\{(\w+)\}\}/g, (m, key: string) => {
    const v = subs[key];
    if (v === undefined) throw new Error(`WGSL kernel ${kernel}: no value for placeholder ${m}`);
    return v;
  }))).join('\n');
}
