/* redmule-vp firmware SDK: HAL implementation (written for this project). */
#include "hal.h"

#define NO_LOOP_TO_CALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LOOP_TO_CALL void *memset(void *d, int c, size_t n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}

NO_LOOP_TO_CALL void *memcpy(void *d, const void *s, size_t n) {
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
  eu_buffer_clear(1u << EVT_REDMULE);    /* drop a stale completion event */
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
  /* take event 12 out of the mask first, so that a completion event arriving late cannot
   * wake a later wait (a barrier, for instance) */
  eu_mask_clear(1u << EVT_REDMULE);
  eu_buffer_clear(1u << EVT_REDMULE);
}

void redmule_run(const void *x, const void *w, void *z,
                 uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt) {
  redmule_start(x, w, z, m, n, k, op, fmt);
  redmule_wait();
}
