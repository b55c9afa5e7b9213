/* redmule-vp firmware SDK: HAL implementation (written for this project). */
#include "hal.h"

#define NO_LOOP_TO_CALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LOOP_TO_CALL void *memset(void *d, int c, unsigned n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}

NO_LOOP_TO_CALL void *memcpy(void *d, const void *s, unsigned n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}

/* ---------------- output ---------------- */
void hal_putchar(int c) {
  /* one word store per character, this core's channel */
  mmio_w(STDOUT_BASE + (core_id() << 3) + (cluster_id() << 7), (uint32_t)(c & 0xFF));
}

void hal_puts(const char *s) {
  while (*s) hal_putchar(*s++);
}

static int out_num(uint32_t v, unsigned base, int neg, int width, char pad, int left, int upper) {
  char buf[12];
  int n = 0, len, i;
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do { buf[n++] = digits[v % base]; v /= base; } while (v);
  len = n + neg;
  if (neg && pad == '0') hal_putchar('-');
  if (!left) for (i = len; i < width; i++) hal_putchar(pad);
  if (neg && pad != '0') hal_putchar('-');
  while (n) hal_putchar(buf[--n]);
  if (left) for (i = len; i < width; i++) hal_putchar(' ');
  return len > width ? len : width;
}

int vprintf(const char *fmt, va_list ap) {
  int count = 0;
  for (; *fmt; fmt++) {
    if (*fmt != '%') { hal_putchar(*fmt); count++; continue; }
    fmt++;
    int left = 0, width = 0;
    char pad = ' ';
    if (*fmt == '-') { left = 1; fmt++; }
    if (*fmt == '0') { pad = '0'; fmt++; }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    if (left) pad = ' ';
    switch (*fmt) {
    case 'd': case 'i': {
      int32_t v = va_arg(ap, int32_t);
      count += out_num(v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10, v < 0, width, pad, left, 0);
      break;
    }
    case 'u': count += out_num(va_arg(ap, uint32_t), 10, 0, width, pad, left, 0); break;
    case 'x': count += out_num(va_arg(ap, uint32_t), 16, 0, width, pad, left, 0); break;
    case 'X': count += out_num(va_arg(ap, uint32_t), 16, 0, width, pad, left, 1); break;
    case 'c': hal_putchar(va_arg(ap, int)); count++; break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      int len = 0, i;
      while (s[len]) len++;
      if (!left) for (i = len; i < width; i++) hal_putchar(' ');
      hal_puts(s);
      if (left) for (i = len; i < width; i++) hal_putchar(' ');
      count += len > width ? len : width;
      break;
    }
    case '%': hal_putchar('%'); count++; break;
    case 0: return count;
    default: hal_putchar('%'); hal_putchar(*fmt); count += 2; break;
    }
  }
  return count;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}

/* ---------------- RedMulE ---------------- */
static inline void rm_w(uint32_t off, uint32_t v) { mmio_w(REDMULE_BASE + off, v); }
static inline int32_t rm_r(uint32_t off) { return (int32_t)mmio_r(REDMULE_BASE + off); }

int redmule_init(void) {
  int32_t id;
  mmio_w(CL_HWPE_CFG, mmio_r(CL_HWPE_CFG) | CL_HWPE_EN_BIT);
  rm_w(REDMULE_SOFT_CLEAR, 0);
  while ((id = rm_r(REDMULE_ACQUIRE)) < 0)
    ;
  return id;
}

int redmule_start(const void *x, const void *w, void *z,
                  uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt) {
  int id = redmule_init();
  eu_mask_set(1u << EVT_REDMULE);
  rm_w(REDMULE_X_PTR, (uint32_t)x);
  rm_w(REDMULE_W_PTR, (uint32_t)w);
  rm_w(REDMULE_Z_PTR, (uint32_t)z);
  rm_w(REDMULE_MCFG0, (k << 16) | (m & 0xFFFF));
  rm_w(REDMULE_MCFG1, n);
  rm_w(REDMULE_ARITH, (op << 10) | (fmt << 7));
  rm_w(REDMULE_TRIGGER, 0);
  return id;
}

void redmule_wait(void) {
  while (rm_r(REDMULE_STATUS) != 0)
    eu_wait_clear();   /* mask has bit 12 (set by redmule_start) */
  eu_buffer_clear(1u << EVT_REDMULE);
}

void redmule_run(const void *x, const void *w, void *z,
                 uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt) {
  redmule_start(x, w, z, m, n, k, op, fmt);
  redmule_wait();
}

/* ---------------- FP16 ---------------- */
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
