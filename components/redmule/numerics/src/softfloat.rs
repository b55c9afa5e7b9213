//! Generic, exact small-float arithmetic used by the slow reference path and the FP8 casts.
//!
//! A [`Spec`] describes an IEEE-754-style binary interchange format with `exp_bits` exponent
//! bits and `man_bits` stored mantissa bits (exponent all ones = infinity / NaN, exponent zero =
//! zero / subnormal, bias `2^(exp_bits-1) - 1`). [`decode`] turns a bit pattern into an exact
//! integer significand and power-of-two scale; [`round_rne`] rounds an exact value
//! `(-1)^neg * mag * 2^exp2` into a format with round-to-nearest-even, gradual underflow and
//! overflow to infinity: the behaviour of `fpnew_rounding.sv` in RNE mode.

/// An IEEE-754-style binary format: 1 sign bit, `exp_bits` exponent bits, `man_bits` mantissa bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Number of exponent bits.
    pub exp_bits: u32,
    /// Number of stored (fraction) mantissa bits.
    pub man_bits: u32,
}

/// IEEE binary16 (fpnew `FP16`).
pub const FP16: Spec = Spec {
    exp_bits: 5,
    man_bits: 10,
};
/// binary8 {1,5,2} (fpnew `FP8`).
pub const E5M2: Spec = Spec {
    exp_bits: 5,
    man_bits: 2,
};
/// binary8alt {1,4,3} (fpnew `FP8ALT`), IEEE conventions (max 240, 0x78 = +inf).
pub const E4M3: Spec = Spec {
    exp_bits: 4,
    man_bits: 3,
};

impl Spec {
    /// Exponent bias.
    pub const fn bias(self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }
    /// Unbiased exponent of the smallest normal number.
    pub const fn emin(self) -> i32 {
        1 - self.bias()
    }
    /// All-ones exponent field value.
    pub const fn exp_field_max(self) -> u32 {
        (1 << self.exp_bits) - 1
    }
    /// Position of the sign bit.
    pub const fn sign_shift(self) -> u32 {
        self.exp_bits + self.man_bits
    }
    /// Signed infinity.
    pub const fn inf(self, neg: bool) -> u32 {
        ((neg as u32) << self.sign_shift()) | (self.exp_field_max() << self.man_bits)
    }
    /// The canonical quiet NaN fpnew produces: sign 0, exponent all ones, mantissa MSB set
    /// (`'{sign: 1'b0, exponent: '1, mantissa: 2**(MAN_BITS-1)}` in fpnew_fma.sv,
    /// fpnew_noncomp.sv and fpnew_cast_multi.sv).
    pub const fn canonical_nan(self) -> u32 {
        (self.exp_field_max() << self.man_bits) | (1 << (self.man_bits - 1))
    }
}

/// The class and exact value of a bit pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Not a number (quiet or signalling; fpnew never propagates payloads).
    Nan,
    /// Signed infinity.
    Inf {
        /// Sign.
        neg: bool,
    },
    /// A finite number `(-1)^neg * mag * 2^exp2`; `mag == 0` for (signed) zeros.
    Finite {
        /// Sign.
        neg: bool,
        /// Integer significand (hidden bit included for normals).
        mag: u32,
        /// Power-of-two scale of one unit of `mag`.
        exp2: i32,
    },
}

/// Decodes a bit pattern of `spec` (bits above the format width are ignored).
pub const fn decode(spec: Spec, bits: u32) -> Class {
    let neg = (bits >> spec.sign_shift()) & 1 == 1;
    let exp = (bits >> spec.man_bits) & spec.exp_field_max();
    let man = bits & ((1 << spec.man_bits) - 1);
    if exp == spec.exp_field_max() {
        if man == 0 {
            Class::Inf { neg }
        } else {
            Class::Nan
        }
    } else if exp == 0 {
        Class::Finite {
            neg,
            mag: man,
            exp2: spec.emin() - spec.man_bits as i32,
        }
    } else {
        Class::Finite {
            neg,
            mag: man | (1 << spec.man_bits),
            exp2: exp as i32 - spec.bias() - spec.man_bits as i32,
        }
    }
}

/// Rounds the exact value `(-1)^neg * mag * 2^exp2` to `spec` with round-to-nearest-even,
/// gradual underflow and overflow to infinity. A zero `mag` gives a zero with sign `neg`.
pub const fn round_rne(spec: Spec, neg: bool, mag: u128, exp2: i32) -> u32 {
    let sign = (neg as u32) << spec.sign_shift();
    if mag == 0 {
        return sign;
    }
    let man = spec.man_bits as i32;
    // Unbiased exponent of the leading one.
    let lead = exp2 + (127 - mag.leading_zeros() as i32);
    // Exponent of one unit in the last place of the result.
    let quantum = if lead > spec.emin() {
        lead
    } else {
        spec.emin()
    } - man;
    let shift = quantum as i64 - exp2 as i64;
    let n: u128 = if shift <= 0 {
        // Exact: the result has at most man_bits + 1 significant bits, so this cannot overflow.
        mag << (-shift) as u32
    } else if shift > 128 {
        0 // below a quarter of the quantum: rounds to zero
    } else {
        let shift = shift as u32;
        let half = 1u128 << (shift - 1);
        let (trunc, rem) = if shift == 128 {
            (0, mag)
        } else {
            (mag >> shift, mag & ((1u128 << shift) - 1))
        };
        let up = rem > half || (rem == half && trunc & 1 == 1);
        trunc + up as u128
    };
    // n < 2^(man+1) (or == 2^(man+1) after a rounding carry). Adding it to the exponent field
    // minus one lets the hidden bit and any carry propagate into the exponent.
    let base: u128 = if lead >= spec.emin() {
        ((lead + spec.bias() - 1) as u128) << man
    } else {
        0
    };
    let enc = base + n;
    if enc >= (spec.exp_field_max() as u128) << man {
        spec.inf(neg)
    } else {
        sign | enc as u32
    }
}

/// Exact conversion of any non-NaN value of `src` to `dst` with RNE; NaN gives `dst`'s
/// canonical NaN. This is fpnew_cast_multi.sv's F2F cast in RNE mode.
pub const fn convert(src: Spec, dst: Spec, bits: u32) -> u32 {
    match decode(src, bits) {
        Class::Nan => dst.canonical_nan(),
        Class::Inf { neg } => dst.inf(neg),
        Class::Finite { neg, mag, exp2 } => round_rne(dst, neg, mag as u128, exp2),
    }
}
