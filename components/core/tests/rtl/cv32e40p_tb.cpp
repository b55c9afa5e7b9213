// Verilator testbench for comparing the model's core timing with the CV32E40P RTL
// (components/core/tests/rtl_compare.rs; build with build.sh). Written for this project;
// no RTL is kept here.
//
// usage: sim CODE.bin DATA.bin   (env GNT_DELAY=N: see below)
// Flat memories behind OBI: CODE at 0x1c000000 (boot address), DATA at 0x10000000; grant
// in the request's cycle, rvalid in the next one. A data request to [0x10000400,
// 0x10000800) is granted only after GNT_DELAY cycles (lost arbitrations). Each store to
// MARK prints "MARK <cycle>" (the cycle of the request, the store's EX cycle); a store to
// END prints "END <cycle>" and stops. Exit status 0 on END, 1 after 2,000,000 cycles.
#include "verilated.h"
#include VTOP_HEADER
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>

static const uint32_t CODE = 0x1c000000, DATA = 0x10000000;
static const uint32_t MARK = 0x10000ff0, END = 0x10000ff4;
static const uint32_t SLOW_LO = 0x10000400, SLOW_HI = 0x10000800;

static std::map<uint32_t, uint8_t> mem;

static uint32_t word(uint32_t a) {
  a &= ~3u;
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) {
    auto it = mem.find(a + k);
    v |= (uint32_t)(it == mem.end() ? 0 : it->second) << (8 * k);
  }
  return v;
}

static bool load(const char *path, uint32_t base) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  int c;
  for (uint32_t a = base; (c = fgetc(f)) != EOF; a++) mem[a] = (uint8_t)c;
  fclose(f);
  return true;
}

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  if (argc < 3 || !load(argv[1], CODE) || !load(argv[2], DATA)) {
    fprintf(stderr, "usage: %s CODE.bin DATA.bin\n", argv[0]);
    return 2;
  }
  const char *gd = getenv("GNT_DELAY");
  const int delay = gd ? atoi(gd) : 0;
  VTOP *t = new VTOP;
  t->clk_i = 0;
  t->rst_ni = 0;
  t->pulp_clock_en_i = 1;
  t->scan_cg_en_i = 0;
  t->boot_addr_i = CODE;
  t->mtvec_addr_i = CODE;
  t->dm_halt_addr_i = 0x1a110800;
  t->dm_exception_addr_i = 0x1a110808;
  t->hart_id_i = 0;
  t->instr_gnt_i = 0;
  t->instr_rvalid_i = 0;
  t->data_gnt_i = 0;
  t->data_rvalid_i = 0;
  t->irq_i = 0;
  t->debug_req_i = 0;
  t->fetch_enable_i = 0;
  for (int i = 0; i < 10; i++) {
    t->clk_i = !t->clk_i;
    t->eval();
  }
  t->rst_ni = 1;
  t->fetch_enable_i = 1;
  bool ivalid = false, dvalid = false;
  uint32_t iaddr = 0, drdata = 0;
  int waited = 0;
  for (uint64_t cyc = 0; cyc < 2000000; cyc++) {
    t->clk_i = 0;
    t->instr_rvalid_i = ivalid;
    t->instr_rdata_i = word(iaddr);
    t->data_rvalid_i = dvalid;
    t->data_rdata_i = drdata;
    t->eval();
    const uint32_t da = t->data_addr_o & ~3u;
    const bool slow = da >= SLOW_LO && da < SLOW_HI;
    t->instr_gnt_i = t->instr_req_o;
    t->data_gnt_i = t->data_req_o && (!slow || waited >= delay);
    t->eval();
    const bool igrant = t->instr_req_o;
    const uint32_t ia = t->instr_addr_o;
    const bool dgrant = t->data_req_o && t->data_gnt_i;
    waited = (t->data_req_o && !t->data_gnt_i) ? waited + 1 : 0;
    uint32_t rdata = 0;
    if (dgrant) {
      if (t->data_we_o) {
        if (da == MARK) printf("MARK %llu\n", (unsigned long long)cyc);
        if (da == END) {
          printf("END %llu\n", (unsigned long long)cyc);
          delete t;
          return 0;
        }
        for (int k = 0; k < 4; k++)
          if (t->data_be_o & (1 << k)) mem[da + k] = (uint8_t)(t->data_wdata_o >> (8 * k));
      } else {
        rdata = word(da);
      }
    }
    t->clk_i = 1;
    t->eval();
    ivalid = igrant;
    iaddr = ia;
    dvalid = dgrant;
    drdata = rdata;
  }
  delete t;
  return 1;
}
