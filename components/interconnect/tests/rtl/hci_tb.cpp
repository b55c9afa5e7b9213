// Drives hci_tb_top (hci_interconnect, 16 narrow ports + NHWPE wide ports) from a
// stimulus file and prints every grant as "G <cycle> <port>" (ports 16..: the wide ones).
// Stimulus: first line "<max_stall> <invert_prio> <denominator>" (for the v2.4 build
// max_stall is the guard's numerator), then control-register changes
// "C <cycle> <max_stall> <invert_prio> <denominator>" (in cycle order, from that cycle on),
// then per request
// "<port> <addr hex> <write 0/1> <gap>": each port's requests in order, the next one
// raised <gap> cycles after the cycle following the previous grant.
#include "Vhci_tb_top.h"
#include "verilated.h"
#include <cstdio>

#include <vector>
#include <deque>

#ifndef NHWPE
#define NHWPE 1
#endif

struct R { unsigned addr; int write; int gap; };
struct Ctrl { long cycle; unsigned ms, inv, den; };

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    FILE* f = fopen(argv[1], "r");
    if (!f) return 2;
    unsigned ms, inv, den;
    if (fscanf(f, "%u %u %u", &ms, &inv, &den) != 3) return 2;
    std::vector<std::deque<R>> q(16 + NHWPE);
    std::deque<Ctrl> ctrl;
    Ctrl cc;
    while (fscanf(f, " C %ld %u %u %u", &cc.cycle, &cc.ms, &cc.inv, &cc.den) == 4) ctrl.push_back(cc);
    int port; unsigned a; int w, g;
    while (fscanf(f, "%d %x %d %d", &port, &a, &w, &g) == 4) q[port].push_back({a, w, g});
    fclose(f);
    Vhci_tb_top* t = new Vhci_tb_top;
    t->max_stall_i = ms; t->invert_prio_i = inv; t->den_i = den;
    t->rst_ni = 0; t->clk_i = 0; t->n_req_i = 0; t->w_req_i = 0; t->eval();
    for (int k = 0; k < 4; k++) { t->clk_i = 1; t->eval(); t->clk_i = 0; t->eval(); }
    t->rst_ni = 1; t->eval();
    // per port: cycle from which the head request is raised
    std::vector<long> from(16 + NHWPE, 0);
    for (int p = 0; p < 16 + NHWPE; p++) if (!q[p].empty()) from[p] = q[p].front().gap;
    for (long c = 0; c < 200000; c++) {
        while (!ctrl.empty() && ctrl.front().cycle <= c) {
            t->max_stall_i = ctrl.front().ms; t->invert_prio_i = ctrl.front().inv;
            t->den_i = ctrl.front().den;
            ctrl.pop_front();
        }
        bool any = false;
        unsigned req = 0, wen = 0;
        for (int p = 0; p < 16; p++) {
            if (!q[p].empty()) any = true;
            if (!q[p].empty() && from[p] <= c) {
                req |= 1u << p;
                t->n_add_i[p] = q[p].front().addr;
                if (!q[p].front().write) wen |= 1u << p; // wen = 1 for a load
            }
        }
        t->n_req_i = req; t->n_wen_i = wen;
        unsigned wreq = 0, wwen = 0;
        for (int j = 0; j < NHWPE; j++) {
            if (q[16 + j].empty()) continue;
            any = true;
            if (from[16 + j] > c) continue;
            wreq |= 1u << j;
            t->w_add_i[j] = q[16 + j].front().addr;
            if (!q[16 + j].front().write) wwen |= 1u << j;
        }
        t->w_req_i = wreq; t->w_wen_i = wwen;
        if (!any) break;
        t->clk_i = 0; t->eval();
        unsigned gnt = t->n_gnt_o;
        for (int p = 0; p < 16; p++) {
            if ((req >> p & 1) && (gnt >> p & 1)) {
                printf("G %ld %d\n", c, p);
                q[p].pop_front();
                if (!q[p].empty()) from[p] = c + 1 + q[p].front().gap;
            }
        }
        unsigned wgnt = t->w_gnt_o;
        for (int j = 0; j < NHWPE; j++) {
            if ((wreq >> j & 1) && (wgnt >> j & 1)) {
                printf("G %ld %d\n", c, 16 + j);
                q[16 + j].pop_front();
                if (!q[16 + j].empty()) from[16 + j] = c + 1 + q[16 + j].front().gap;
            }
        }
        t->clk_i = 1; t->eval();
    }
    delete t;
    return 0;
}
