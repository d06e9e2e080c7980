/** Exports the pre-registry glue (kernels.ts) calls by name; op files declare their own. */
export const legacyKernelNames = [] as const;
