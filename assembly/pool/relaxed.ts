// pool kernels that need the relaxed feature level (see assembly/relaxed.ts). Filled in by the pool family.
