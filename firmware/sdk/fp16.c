/* redmule-vp firmware SDK: FP16 helpers, integer arithmetic only (written for this project).
 * Pure C without hardware access, so it also builds on the host (see tests/). */
#include "hal.h"

uint32_t fp16_to_f32bits(fp16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, f = h & 0x3FF;
  if (e == 0x1F) return s | 0x7F800000 | (f << 13);          /* inf / NaN */
  if (e == 0) {
    if (f == 0) return s;                                     /* zero */
    e = 113;                                                  /* 127 - 14 */
    while (!(f & 0x400)) { f <<= 1; e--; }                    /* normalise subnormal */
    return s | (e << 23) | ((f & 0x3FF) << 13);
  }
  return s | ((e + 112) << 23) | (f << 13);
}

/* round mag * 2^E (mag < 2^63) to FP16, round to nearest even; no sign */
static uint16_t round_to_fp16(uint64_t mag, int E) {
  if (mag == 0) return 0;
  int t = 63;
  while (!((mag >> t) & 1)) t--;
  int e = t + E;                          /* value in [2^e, 2^(e+1)) */
  int qexp = (e < -14 ? -14 : e) - 10;    /* exponent of one unit in the last place */
  int r = qexp - E;
  uint64_t q;
  if (r <= 0) {
    q = mag << -r;                        /* exact */
  } else if (r >= 64) {
    q = 0;                                /* below half an ulp of 2^-24 */
  } else {
    uint64_t rem = mag & ((1ull << r) - 1), half = 1ull << (r - 1);
    q = mag >> r;
    if (rem > half || (rem == half && (q & 1))) q++;
  }
  if (qexp > 15) return 0x7C00;           /* far beyond the range */
  uint32_t bits = (qexp == -24) ? (uint32_t)q : (((uint32_t)(qexp + 25) << 10) + (uint32_t)q - 1024);
  return bits >= 0x7C00 ? 0x7C00 : (uint16_t)bits;
}

fp16_t f32bits_to_fp16(uint32_t f) {
  uint16_t s = (f >> 16) & 0x8000;
  uint32_t e = (f >> 23) & 0xFF, m = f & 0x7FFFFF;
  if (e == 0xFF) return s | (m ? 0x7E00 : 0x7C00);
  if (e == 0) return s;                   /* f32 subnormals are far below FP16's range */
  return s | round_to_fp16(m | 0x800000, (int)e - 150);
}

/* decompose a finite FP16 into |value| = m * 2^q */
static void fp16_parts(fp16_t h, uint32_t *m, int *q) {
  uint32_t e = (h >> 10) & 0x1F, f = h & 0x3FF;
  *m = e ? (f | 0x400) : f;
  *q = (e ? (int)e : 1) - 25;
}

static int top_bit(uint64_t v) { int t = -1; while (v) { v >>= 1; t++; } return t; }

fp16_t fp16_fma(fp16_t a, fp16_t b, fp16_t c) {
  int ea = (a & 0x7C00) == 0x7C00, eb = (b & 0x7C00) == 0x7C00, ec = (c & 0x7C00) == 0x7C00;
  uint32_t sp = (a ^ b) & 0x8000, sc = c & 0x8000;
  if ((ea && (a & 0x3FF)) || (eb && (b & 0x3FF)) || (ec && (c & 0x3FF))) return 0x7E00;
  if (ea || eb) {                                         /* product is inf or inf*0 */
    if (!(a & 0x7FFF) || !(b & 0x7FFF)) return 0x7E00;
    if (ec && sc != sp) return 0x7E00;
    return sp | 0x7C00;
  }
  if (ec) return c;

  uint32_t ma, mb, mc; int qa, qb, qc;
  fp16_parts(a, &ma, &qa); fp16_parts(b, &mb, &qb); fp16_parts(c, &mc, &qc);
  uint64_t mp = (uint64_t)ma * mb; int qp = qa + qb;     /* exact product */
  if (mp == 0 && mc == 0) return (sp & sc) ? 0x8000 : 0; /* exact zero */
  if (mp == 0) return c;
  if (mc == 0) return sp | round_to_fp16(mp, qp);

  /* common scale 2^E with 60 bits below the top bit of the larger operand */
  int tp = top_bit(mp) + qp, tc = top_bit(mc) + qc;
  int E = (tp > tc ? tp : tc) - 60;
  uint64_t vp, vc;
  int sh = qp - E;                                       /* >= 0 or a right shift with sticky */
  if (sh >= 0) vp = mp << sh;
  else vp = (-sh >= 64) ? 1 : ((mp >> -sh) | ((mp & ((1ull << -sh) - 1)) != 0));
  sh = qc - E;
  if (sh >= 0) vc = (uint64_t)mc << sh;
  else vc = (-sh >= 64) ? 1 : (((uint64_t)mc >> -sh) | (((uint64_t)mc & ((1ull << -sh) - 1)) != 0));

  uint64_t mag; uint32_t s;
  if (sp == sc) { mag = vp + vc; s = sp; }
  else if (vp >= vc) { mag = vp - vc; s = sp; }
  else { mag = vc - vp; s = sc; }
  if (mag == 0) return 0;                                /* exact cancellation: +0 in RNE */
  return s | round_to_fp16(mag, E);
}
