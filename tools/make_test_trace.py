#!/usr/bin/python3
"""Writes a small valid msqsim trace (a grouped 3x3 conv and an fc layer) with numpy alone.

    tools/make_test_trace.py OUT_DIR [--seed N]

An example of how to write a trace outside the simulator: the directory layout of
docs/traces.md, the integer weights of docs/arithmetic.md, and the expected outputs computed here per
the arithmetic contract (bias, products in ascending k in im2col order, a finite accumulator that
wraps or saturates, requantization with an int64 product). No expected_cycles: `msqsim regress
--update` records them.
"""
import argparse
import os
import sys

import numpy as np


def sp2_levels(bits):
    """Distinct integer weights of a b-bit SP2 row: +-(t(e1) + t(e2)), t(0) = 0, t(e) = 2^(F-e)."""
    m1, m2 = bits // 2, (bits - 1) // 2
    f = 2**m1 - 1

    def t(e):
        return 0 if e == 0 else 2 ** (f - e)

    return sorted({s * (t(e1) + t(e2)) for s in (1, -1) for e1 in range(2**m1) for e2 in range(2**m2)})


def random_rows(rng, m, k):
    """Half SP2 rows, half fixed rows, of assorted widths; returns weights, scheme, bits."""
    weights = np.zeros((m, k), dtype=np.int64)
    scheme = np.zeros(m, dtype=np.uint8)
    bits = np.zeros(m, dtype=np.uint8)
    for r in range(m):
        if r % 2:
            b = int(rng.choice([3, 4, 5, 8]))
            scheme[r], bits[r] = 1, b
            weights[r] = rng.choice(sp2_levels(b), size=k)
        else:
            b = int(rng.choice([2, 4, 8]))
            top = 2 ** (b - 1) - 1  # symmetric: the most negative code is not used
            bits[r] = b
            weights[r] = rng.integers(-top, top + 1, size=k)
    return weights, scheme, bits


def im2col(x, kh, kw, stride, pad, groups):
    """Per group, X[K, N] with k = (c*kh + i)*kw + j and n = (b*OH + oh)*OW + ow."""
    b, c, h, w = x.shape
    (sh, sw), (ph, pw) = stride, pad
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((b, c, kh, kw, oh, ow), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]
    cg = c // groups
    return [
        cols[:, g * cg : (g + 1) * cg].transpose(1, 2, 3, 0, 4, 5).reshape(cg * kh * kw, b * oh * ow)
        for g in range(groups)
    ], (oh, ow)


def accumulate(w, x, bias, acc_bits, overflow):
    """acc = bias, then acc += w[:, k] * x[k] for k ascending, each step wrapped or saturated."""
    assert acc_bits <= 48, "int64 holds the exact sums only for narrower accumulators"
    lo, hi = -(2 ** (acc_bits - 1)), 2 ** (acc_bits - 1) - 1

    def fit(v):
        if overflow == "saturate":
            return np.clip(v, lo, hi)
        return (v - lo) % (2**acc_bits) + lo

    acc = fit(np.repeat(bias.astype(np.int64)[:, None], x.shape[1], axis=1))
    for k in range(w.shape[1]):
        acc = fit(acc + w[:, k : k + 1] * x[k : k + 1, :])
    return acc


def requantize(acc, mult, shift, act_bits):
    """clamp((acc * M + 2^(S-1)) >> S, 0, 2^a - 1); numpy's int64 product wraps like the contract's."""
    with np.errstate(over="ignore"):
        p = acc * mult.astype(np.int64)[:, None] + (np.int64(1) << (shift.astype(np.int64) - 1))[:, None]
    return np.clip(p >> shift.astype(np.int64)[:, None], 0, 2**act_bits - 1)


def make_layer(out_dir, rng, name, x, m, kernel, stride, pad, groups, act_bits, acc_bits, overflow, output):
    cg = x.shape[1] // groups
    k = cg * kernel[0] * kernel[1]
    weights, scheme, bits = random_rows(rng, m, k)
    bias = rng.integers(-500, 500, size=m)
    mult = rng.integers(1, 2**8, size=m)
    shift = rng.integers(16, 24, size=m)
    cols, (oh, ow) = im2col(x, kernel[0], kernel[1], stride, pad, groups)
    mg = m // groups
    acc = np.concatenate(
        [accumulate(weights[g * mg : (g + 1) * mg], cols[g], bias[g * mg : (g + 1) * mg], acc_bits, overflow)
         for g in range(groups)]
    )
    y = acc if output == "accumulators" else requantize(acc, mult, shift, act_bits)
    # [B, Cout, Hout, Wout]; the transpose is a view in Fortran-like order, and np.save would
    # record fortran_order: True, which traces reject: make it C-contiguous.
    y = np.ascontiguousarray(y.reshape(m, x.shape[0], oh, ow).transpose(1, 0, 2, 3))

    d = os.path.join(out_dir, name)
    os.makedirs(d)
    act_dtype = np.uint8 if act_bits <= 8 else np.uint16
    # int16 unless an 8-bit SP2 level (up to 2^15) needs int32.
    wtype = np.int16 if np.abs(weights).max() <= 32767 else np.int32
    np.save(os.path.join(d, "weights.npy"), weights.astype(wtype))
    np.save(os.path.join(d, "scheme.npy"), scheme)
    np.save(os.path.join(d, "bits.npy"), bits)
    np.save(os.path.join(d, "bias.npy"), bias.astype(np.int32))
    np.save(os.path.join(d, "requant_mult.npy"), mult.astype(np.int32))
    np.save(os.path.join(d, "requant_shift.npy"), shift.astype(np.int8))
    np.save(os.path.join(d, "input.npy"), x.astype(act_dtype))
    np.save(os.path.join(d, "output.npy"), y.astype(np.int32 if output == "accumulators" else act_dtype))
    return y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if os.path.exists(args.out_dir):
        sys.exit(f"make_test_trace: {args.out_dir} exists; give a new directory")
    os.makedirs(args.out_dir)
    rng = np.random.default_rng(args.seed)

    # A grouped 3x3 conv, batch 2, 8-bit activations, 32-bit wrapping accumulators.
    x = rng.integers(0, 256, size=(2, 4, 6, 6))
    make_layer(args.out_dir, rng, "conv3x3", x, m=8, kernel=(3, 3), stride=(1, 1), pad=(1, 1), groups=2,
               act_bits=8, acc_bits=32, overflow="wrap", output="activations")
    # An fc classifier emitting raw accumulators; 16-bit saturating accumulators, so that some
    # outputs saturate. fc input is [B, K, 1, 1].
    x = rng.integers(0, 256, size=(2, 32, 1, 1))
    make_layer(args.out_dir, rng, "fc", x, m=10, kernel=(1, 1), stride=(1, 1), pad=(0, 0), groups=1,
               act_bits=8, acc_bits=16, overflow="saturate", output="accumulators")

    with open(os.path.join(args.out_dir, "trace.yaml"), "w") as f:
        f.write(
            "format: msqsim-trace/1\n"
            "layers:\n"
            "  - name: conv3x3\n"
            "    type: conv\n"
            "    out_channels: 8\n"
            "    kernel: [3, 3]\n"
            "    stride: [1, 1]\n"
            "    padding: [1, 1]\n"
            "    groups: 2\n"
            "    act_bits: 8\n"
            "    acc_bits: 32\n"
            "    overflow: wrap\n"
            "    output: activations\n"
            "  - name: fc\n"
            "    type: fc\n"
            "    out_channels: 10\n"
            "    act_bits: 8\n"
            "    acc_bits: 16\n"
            "    overflow: saturate\n"
            "    output: accumulators\n"
        )
    print(f"make_test_trace: wrote {args.out_dir}")


if __name__ == "__main__":
    main()
