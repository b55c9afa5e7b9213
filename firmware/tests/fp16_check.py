#!/usr/bin/env python3
"""Checks sdk/fp16.c on the host against an exact rational reference (fractions.Fraction).
Usage: fp16_check.py ./fp16_host   (exit 0 when every case matches)."""
import random, struct, subprocess, sys
from fractions import Fraction as F

def h_val(h):
    e, f = (h >> 10) & 31, h & 1023
    s = -1 if h >> 15 else 1
    if e == 31: return None
    return s * (F(f, 1024) * F(2) ** -14 if e == 0 else (1 + F(f, 1024)) * F(2) ** (e - 15))

def f_val(u):
    e, m = (u >> 23) & 255, u & 0x7FFFFF
    s = -1 if u >> 31 else 1
    if e == 255: return None
    return s * (F(m, 1 << 23) * F(2) ** -126 if e == 0 else (1 + F(m, 1 << 23)) * F(2) ** (e - 127))

def round_h(v, neg_zero=False):
    """round a rational to FP16 bits, nearest even, overflow to inf"""
    if v == 0: return 0x8000 if neg_zero else 0
    s = 0x8000 if v < 0 else 0
    a = abs(v)
    e = 0
    while a >= F(2) ** (e + 1): e += 1
    while a < F(2) ** e: e -= 1
    q = max(e, -14) - 10
    x = a / F(2) ** q
    n = x.numerator // x.denominator
    r = x - n
    if r > F(1, 2) or (r == F(1, 2) and n & 1): n += 1
    bits = n if q == -24 else ((q + 25) << 10) + n - 1024
    return s | min(bits, 0x7C00)

def ref_fma(a, b, c):
    va, vb, vc = h_val(a), h_val(b), h_val(c)
    if va is None or vb is None or vc is None: return None  # specials: checked by hand below
    p = va * vb
    if p == 0 and vc == 0:
        return 0x8000 if ((a ^ b) & 0x8000) and (c & 0x8000) else 0
    return round_h(p + vc)

def rnd_h(rng):
    k = rng.random()
    if k < 0.1: return rng.randrange(0, 0x400) | (rng.randrange(2) << 15)      # subnormal
    if k < 0.2: return rng.choice([0, 0x8000, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 1, 0x8001, 0x400])
    if k < 0.6: return (rng.randrange(2) << 15) | (rng.randrange(10, 18) << 10) | rng.randrange(1024)
    return rng.randrange(0, 0x10000) & ~0x7C00 | (rng.randrange(0, 31) << 10)  # any finite

def main():
    rng = random.Random(1)
    cases = []
    for _ in range(30000):
        a, b, c = rnd_h(rng), rnd_h(rng), rnd_h(rng)
        k = rng.random()
        if k < 0.3:   # near-cancellation: c close to -a*b
            va, vb = h_val(a), h_val(b)
            c = round_h(-(va * vb)) if va is not None and vb is not None else c
            if (c & 0x7C00) != 0x7C00 and rng.random() < 0.5: c ^= 1
        f = rng.getrandbits(32)
        if rng.random() < 0.7: f = (f & 0x807FFFFF) | (rng.randrange(100, 150) << 23)
        cases.append((a, b, c, f))
    specials = [(0x7C00, 0, 0x3C00, 0x7F800000, 0x7E00), (0x7C00, 0x3C00, 0xFC00, 0xFF800000, 0x7E00),
                (0x7C00, 0x3C00, 0x7C00, 0x7FC00000, 0x7C00), (0x3C00, 0x3C00, 0x7E00, 0, 0x7E00),
                (0xFC00, 0x3C00, 0x3C00, 0, 0xFC00), (0x3C00, 0x3C00, 0xFC00, 0, 0xFC00)]
    inp = "".join("%x %x %x %x\n" % t for t in cases + [s[:4] for s in specials])
    out = subprocess.run([sys.argv[1]], input=inp, capture_output=True, text=True, check=True).stdout.split("\n")
    bad = 0
    for i, (a, b, c, f) in enumerate(cases):
        got_fma, got_f2h, got_h2f = (int(x, 16) for x in out[i].split())
        exp_fma = ref_fma(a, b, c)
        fv = f_val(f)
        exp_f2h = (0x7E00 if f & 0x7FFFFF else 0x7C00) | (f >> 16 & 0x8000) if fv is None else \
            round_h(fv, neg_zero=bool(f >> 31))
        ok_h2f = f_val(got_h2f) == h_val(a) and (got_h2f >> 31) == (a >> 15)
        if exp_fma is not None and got_fma != exp_fma or got_f2h != exp_f2h or (h_val(a) is not None and not ok_h2f):
            bad += 1
            if bad < 10: print("MISMATCH a=%04x b=%04x c=%04x f=%08x: fma %04x/%s f2h %04x/%04x h2f %08x"
                               % (a, b, c, f, got_fma, exp_fma if exp_fma is None else "%04x" % exp_fma, got_f2h, exp_f2h, got_h2f))
    for j, s in enumerate(specials):
        got = int(out[len(cases) + j].split()[0], 16)
        if got != s[4]: bad += 1; print("SPECIAL MISMATCH", [hex(x) for x in s], hex(got))
    n = len(cases) + len(specials)
    print("%d passed, %d failed" % (n - bad, bad))
    sys.exit(1 if bad else 0)

main()
