// eltwise kernels that need the scalar feature level (see assembly/scalar.ts). Filled in by the eltwise family.
