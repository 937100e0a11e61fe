// Convolution geometry record shared by the conv kernels (host: src/kernels/qconv.ts writes it into constants).
// 24 int32 fields at byte offsets 4*i:
//   0 h, 1 w, 2 c (input channels), 3 kh, 4 kw, 5 sh, 6 sw, 7 pad_top, 8 pad_left, 9 dh, 10 dw,
//   11 cg (channels per group), 12 oh, 13 ow, 14 za (input zero point, raw byte value), 15 k (= kh*kw*cg),
//   16 cg2 (cg rounded up to even, indirect kernel), 17 th, 18 tw (Winograd: 2x2 output tiles per column / row),
//   19 tiles (Winograd: n * th * tw), 20..23 reserved.
export const CP_H = 0; export const CP_W = 4; export const CP_C = 8; export const CP_KH = 12; export const CP_KW = 16;
export const CP_SH = 20; export const CP_SW = 24; export const CP_PT = 28; export const CP_PL = 32; export const CP_DH = 36;
export const CP_DW = 40; export const CP_CG = 44; export const CP_OH = 48; export const CP_OW = 52; export const CP_ZA = 56;
export const CP_K = 60; export const CP_CG2 = 64; export const CP_TH = 68; export const CP_TW = 72;
export const CP_TILES = 76;
