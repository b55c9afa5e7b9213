/* hello: each core prints one line, in core order (one barrier per turn). */
#include "hal.h"

int main(void) {
  uint32_t id = core_id();
  for (uint32_t turn = 0; turn < num_cores(); turn++) {
    if (turn == id) printf("hello from core %d\n", id);
    barrier();
  }
  return 0;
}
