/* Host driver for sdk/fp16.c: reads "a b c" (hex FP16) per line, prints
 * "fma f2h(a_as_f32) h2f(a)" where f2h takes the f32 bits given as fourth field. */
#include <stdio.h>
#include "hal.h"

int main(void) {
  unsigned a, b, c, f;
  while (scanf("%x %x %x %x", &a, &b, &c, &f) == 4)
    printf("%04x %04x %08x\n", fp16_fma(a, b, c), f32bits_to_fp16(f), fp16_to_f32bits(a));
  return 0;
}
