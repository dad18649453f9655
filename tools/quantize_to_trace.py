#!/usr/bin/python3
"""Quantizes float weights of a network into an msqsim trace (docs/traces.md).

    tools/quantize_to_trace.py LAYERS.json|LAYERS.yaml --out DIR [--sp2-fraction R]
        [--fixed8-fraction F] [--weight-bits B] [--act-bits A] [--acc-bits N]
        [--overflow wrap|saturate] [--batch B] [--seed S] [--config CONFIG.yaml] [--fma]

LAYERS lists the layers (paths relative to the file):

    {"layers": [
      {"name": "conv1", "type": "conv", "weights": "conv1.npy",   # float [Cout, Cin/g, kh, kw]
       "input": [3, 32, 32], "stride": 1, "padding": 1, "groups": 1,
       "calibration": "x.npy",          # optional unsigned [B, C, H, W] codes; else random
       "output": "activations"},        # or "accumulators"
      {"name": "fc", "type": "fc", "weights": "fc.npy", "input": 512}]}   # float [M, K]

Hand-made layer lists only: a real network (MODEL.onnx) is imported, calibrated and quantized by
msqsim itself, biases, zero points, adds and pools included; `msqsim trace record CONFIG --out DIR`
with `workload.network: MODEL.onnx` writes its graph trace (docs/import.md).

Per layer: the quantization policy of docs/arithmetic.md exactly as models/quantizer.cpp applies
it (same codes, same scores, same row choice; see quantize_rows), requantization constants per
row that map the largest calibration accumulator to the top activation code, and the expected
outputs by the integer arithmetic of docs/arithmetic.md (bias 0). The calibration input is the
trace's input. --config embeds the device, clock_mhz, accelerator and memory blocks of an msqsim
config in the manifest. No expected_cycles: `msqsim regress DIR --update` records them.
Errors exit with code 2 (bad input).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_test_trace import im2col, requantize  # noqa: E402  (the same contract arithmetic)

CHUNK = 512  # models/quantizer.cpp kChunk: the summation order of the scores depends on it


def die(msg):
    print(f"quantize_to_trace: {msg}", file=sys.stderr)
    sys.exit(2)  # bad input, as msqsim's exit code 2 (and argparse's)


def llround(x):
    """C's llround for x >= 0: half away from zero."""
    f = math.floor(x)
    return int(f) + (1 if x - f >= 0.5 else 0)


def sp2_magnitudes(bits):
    m1, m2 = bits // 2, (bits - 1) // 2
    f = 2**m1 - 1

    def t(e):
        return 0 if e == 0 else 2 ** (f - e)

    return np.array(sorted({t(e1) + t(e2) for e1 in range(2**m1) for e2 in range(2**m2)}), dtype=np.float64), f


def fixed_codes(x, qmax):
    """round-half-away(clamp(x * qmax)), by truncation and an exact remainder as quantizer.cpp."""
    v = np.clip(x * qmax, -qmax, qmax)
    t = np.trunc(v)
    r = v - t
    return (t + (r >= 0.5) - (r <= -0.5)).astype(np.int64)


def sp2_codes(x, bits):
    """Nearest SP2 level of |x| * 2^F, ties to the smaller magnitude (argmin takes the first)."""
    mags, f = sp2_magnitudes(bits)
    y = np.minimum(np.abs(x) * float(2**f), float(2**f))
    idx = np.argmin(np.abs(y[..., None] - mags), axis=-1)
    m = mags[idx].astype(np.int64)
    return np.where(x < 0, -m, m), float(2**f)


def split26(a):
    """Veltkamp split of doubles into a 26-bit high part and the rest (both exact)."""
    c = a * 134217729.0
    hi = c - (c - a)
    return hi, a - hi


def residual(v, code, step, fma):
    """v - code * step as the C++ computes it. msqsim builds with -ffp-contract=off, so by default
    the product and the difference are rounded separately, as here. --fma reproduces a build that
    fuses them into one multiply-add (a single rounding): with code below 2^16 and step split in
    two, code * hi and code * lo are exact, v - code * hi is exact (the residual is within a few
    steps of v), so one rounded subtraction gives the fused result."""
    if not fma:
        return v - code * step
    hi, lo = split26(step)
    return (v - code * hi) - code * lo


def sum8(e):
    """quantizer.cpp sum8 over the last axis (a multiple of 8): eight interleaved partial sums."""
    blocks = e.reshape(e.shape[:-1] + (-1, 8))
    s = np.zeros(e.shape[:-1] + (8,))
    for i in range(blocks.shape[-2]):
        s = s + blocks[..., i, :]
    return ((s[..., 0] + s[..., 1]) + (s[..., 2] + s[..., 3])) + ((s[..., 4] + s[..., 5]) + (s[..., 6] + s[..., 7]))


def row_sse(w, codes, step, fma):
    """Per-row sum of squared residuals, chunk by chunk in quantizer.cpp's order."""
    m, k = w.shape
    pad = (-k) % CHUNK
    d = residual(w, codes, step[:, None], fma)
    e = np.pad(d * d, ((0, 0), (0, pad))).reshape(m, -1, CHUNK)
    sums = sum8(e)
    total = np.zeros(m)
    for c in range(sums.shape[1]):
        total = total + sums[:, c]
    return total


def pick_top(cands, key, n):
    return set(sorted(cands, key=lambda i: (-key[i], i))[: max(n, 0)])


def quantize_rows(wf, sp2_fraction, fixed8_fraction, low_bits, fma=False):
    """models/quantizer.cpp quantize_matrix: returns int weights [M, K], scheme, bits."""
    w32 = np.ascontiguousarray(wf, dtype=np.float32)
    if not np.all(np.isfinite(w32)):
        die("non-finite weight")
    m, _ = w32.shape
    w = w32.astype(np.float64)
    alpha = np.abs(w32).max(axis=1).astype(np.float64)
    a = np.where(alpha > 0, alpha, 1.0)
    x = w / a[:, None]
    qmax = float(2 ** (low_bits - 1) - 1)
    qf = fixed_codes(x, qmax)
    sse_f = row_sse(w, qf, alpha / qmax, fma)
    if low_bits >= 3:
        qs, scale = sp2_codes(x, low_bits)
        sse_s = row_sse(w, qs, alpha / scale, fma)
    else:
        qs, sse_s = None, sse_f
    fixed8 = min(m, llround(fixed8_fraction * m))
    n_sp2 = min(m - fixed8, llround(sp2_fraction * m))
    if n_sp2 > 0 and low_bits < 3:
        die("SP2 rows need at least 3 bits")
    is8 = pick_top(range(m), np.minimum(sse_f, sse_s), fixed8)
    is_sp2 = pick_top([r for r in range(m) if r not in is8], sse_f - sse_s, n_sp2)
    out = qf.copy()
    scheme = np.zeros(m, dtype=np.uint8)
    bits = np.full(m, low_bits, dtype=np.uint8)
    for r in range(m):
        if r in is_sp2:
            out[r], scheme[r] = qs[r], 1
        elif r in is8:
            out[r], bits[r] = fixed_codes(x[r], 127.0), 8
    return out, scheme, bits


def calibrate(acc, act_bits):
    """M, S per row so that the row's largest calibration accumulator maps to 2^a - 1 (the same
    shift choice as the workload builder: 23 bits of multiplier, headroom in int64)."""
    mult = np.zeros(acc.shape[0], dtype=np.int64)
    shift = np.ones(acc.shape[0], dtype=np.int64)
    top = float(2**act_bits - 1)
    for r in range(acc.shape[0]):
        hi = float(acc[r].max())
        if hi <= 0:
            continue  # the ReLU zeroes every output of this row
        _, e = math.frexp(top / hi)
        s = min(max(23 - e, 1), min(62, 62 - act_bits - 4))
        mult[r] = min(round(math.ldexp(top / hi, s)), 2**31 - 1)
        shift[r] = s
    return mult, shift


def accumulate(w, cols, bias, acc_bits, overflow, act_max):
    """acc = bias, then + w[:, k] * x[k] for ascending k, wrapped or saturated at every step."""
    lo, hi = -(2 ** (acc_bits - 1)), 2 ** (acc_bits - 1) - 1
    exact = bias[:, None] + w @ cols  # exact: |w| <= 2^15, x < 2^16, K < 2^20
    if overflow == "wrap" or acc_bits >= 63:
        return (exact - lo) % (2**acc_bits) + lo if acc_bits < 63 else exact
    if (np.abs(bias) + np.abs(w).sum(axis=1) * act_max).max() <= hi:
        return exact  # no partial sum can leave the range: saturation never acts
    acc = np.clip(np.repeat(bias[:, None], cols.shape[1], axis=1), lo, hi)
    for k in range(w.shape[1]):
        acc = np.clip(acc + w[:, k : k + 1] * cols[k : k + 1, :], lo, hi)
    return acc


def load_layers(path):
    with open(path) as f:
        text = f.read()
    if path.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            die(f"{path}: reading YAML needs python3-yaml; give the layer list as JSON")
        doc = yaml.safe_load(text)
    else:
        doc = json.loads(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list) or not doc["layers"]:
        die(f"{path}: expected a map with a non-empty 'layers' list")
    return doc["layers"]


def pair(v):
    return (int(v), int(v)) if not isinstance(v, (list, tuple)) else (int(v[0]), int(v[1]))


def config_blocks(path):
    """The device, clock_mhz, accelerator and memory blocks of a config file, as text."""
    keep, out = False, []
    with open(path) as f:
        for line in f:
            if line.strip() and not line[0].isspace() and not line.startswith("#"):
                keep = line.split(":")[0].strip() in ("device", "clock_mhz", "accelerator", "memory")
            if keep:
                out.append("  " + line.rstrip("\n"))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("layers", help="LAYERS.json or LAYERS.yaml")
    ap.add_argument("--out", required=True)
    ap.add_argument("--sp2-fraction", type=float, default=0.5)
    ap.add_argument("--fixed8-fraction", type=float, default=0.0)
    ap.add_argument("--weight-bits", type=int, default=4)
    ap.add_argument("--act-bits", type=int, default=8)
    ap.add_argument("--acc-bits", type=int, default=32)
    ap.add_argument("--overflow", choices=["wrap", "saturate"], default="wrap")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--config", help="msqsim config whose hardware blocks the manifest embeds")
    ap.add_argument("--fma", action="store_true",
                    help="score rows as a build that fuses multiply-adds would (msqsim does not)")
    a = ap.parse_args()
    if not (0 <= a.sp2_fraction <= 1 and 0 <= a.fixed8_fraction <= 1 and a.sp2_fraction + a.fixed8_fraction <= 1 + 1e-9):
        die("--sp2-fraction and --fixed8-fraction must be in [0, 1] with a sum of at most 1")
    if not 2 <= a.weight_bits <= 8 or not 1 <= a.act_bits <= 16 or not 2 <= a.acc_bits <= 64:
        die("--weight-bits must be 2..8, --act-bits 1..16, --acc-bits 2..64")
    if os.path.exists(a.out):
        die(f"{a.out} exists; give a new directory")
    base = os.path.dirname(os.path.abspath(a.layers))
    if a.layers.endswith(".onnx"):
        die(f"{a.layers}: real networks are quantized by msqsim itself (biases, calibrated zero "
            "points, adds and pools): set workload.network to the model in a config and run "
            "`msqsim trace record CONFIG --out DIR` (docs/import.md)")
    specs = load_layers(a.layers)
    tmp = a.out.rstrip("/") + ".tmp"
    os.makedirs(tmp)
    manifest = ["format: msqsim-trace/1"]
    if a.config:
        manifest += ["config:", config_blocks(a.config)]
    manifest.append("layers:")
    act_dtype = np.uint8 if a.act_bits <= 8 else np.uint16
    for i, L in enumerate(specs):
        name, kind = L.get("name"), L.get("type", "conv")
        if not name or kind not in ("conv", "fc"):
            die(f"layers[{i}]: needs a name and type conv or fc")
        wf = L["weights"] if isinstance(L["weights"], np.ndarray) else np.load(os.path.join(base, L["weights"]))
        if kind == "fc":
            if wf.ndim != 2:
                die(f"{name}: fc weights must be [M, K], got shape {wf.shape}")
            cin, h, w_ = int(np.prod(L.get("input", wf.shape[1]))), 1, 1
            kh = kw = 1
            stride, pad, groups = (1, 1), (0, 0), 1
        else:
            if wf.ndim != 4:
                die(f"{name}: conv weights must be [Cout, Cin/groups, kh, kw], got shape {wf.shape}")
            cin, h, w_ = (int(v) for v in L["input"])
            kh, kw = wf.shape[2], wf.shape[3]
            stride, pad, groups = pair(L.get("stride", 1)), pair(L.get("padding", 0)), int(L.get("groups", 1))
            if cin % groups or wf.shape[0] % groups or wf.shape[1] != cin // groups:
                die(f"{name}: weights {wf.shape} do not fit input channels {cin} with groups {groups}")
        m = wf.shape[0]
        wq, scheme, bits = quantize_rows(wf.reshape(m, -1), a.sp2_fraction, a.fixed8_fraction, a.weight_bits, a.fma)
        if "calibration" in L:
            x = np.load(os.path.join(base, L["calibration"])).astype(np.int64)
            if x.ndim == 2:
                x = x.reshape(x.shape[0], x.shape[1], 1, 1)
            if x.shape[1:] != (cin, h, w_) or x.min() < 0 or x.max() >= 2**a.act_bits:
                die(f"{name}: calibration input must be [B, {cin}, {h}, {w_}] codes below 2^{a.act_bits}")
        else:
            # ReLU-like: half zeros, the rest uniform over the codes.
            rng = np.random.default_rng(a.seed + i)
            x = rng.integers(1, 2**a.act_bits, size=(a.batch, cin, h, w_)) * (rng.random((a.batch, cin, h, w_)) < 0.5)
        cols, (oh, ow) = im2col(x, kh, kw, stride, pad, groups)
        mg = m // groups
        bias = np.zeros(m, dtype=np.int64)
        acc = np.concatenate([accumulate(wq[g * mg:(g + 1) * mg], cols[g], bias[g * mg:(g + 1) * mg],
                                         a.acc_bits, a.overflow, 2**a.act_bits - 1) for g in range(groups)])
        mult, shift = calibrate(acc, a.act_bits)
        output = L.get("output", "activations")
        y = acc if output == "accumulators" else requantize(acc, mult, shift, a.act_bits)
        y = np.ascontiguousarray(y.reshape(m, x.shape[0], oh, ow).transpose(1, 0, 2, 3))
        d = os.path.join(tmp, name)
        os.makedirs(d)
        wmax = int(np.abs(wq).max())
        np.save(os.path.join(d, "weights.npy"), wq.astype(np.int8 if wmax <= 127 else np.int16 if wmax <= 32767 else np.int32))
        np.save(os.path.join(d, "scheme.npy"), scheme)
        np.save(os.path.join(d, "bits.npy"), bits)
        np.save(os.path.join(d, "bias.npy"), bias.astype(np.int32))
        np.save(os.path.join(d, "requant_mult.npy"), mult.astype(np.int32))
        np.save(os.path.join(d, "requant_shift.npy"), shift.astype(np.int8))
        np.save(os.path.join(d, "input.npy"), x.astype(act_dtype))
        if output == "accumulators":
            fits = y.min() >= -(2**31) and y.max() < 2**31
            np.save(os.path.join(d, "output.npy"), y.astype(np.int32 if fits else np.int64))
        else:
            np.save(os.path.join(d, "output.npy"), y.astype(act_dtype))
        manifest += [f"  - name: {name}", f"    type: {kind}", f"    out_channels: {m}"]
        if kind == "conv":
            manifest += [f"    kernel: [{kh}, {kw}]", f"    stride: [{stride[0]}, {stride[1]}]",
                         f"    padding: [{pad[0]}, {pad[1]}]", f"    groups: {groups}"]
        manifest += [f"    act_bits: {a.act_bits}", f"    acc_bits: {a.acc_bits}", f"    overflow: {a.overflow}",
                     f"    output: {output}"]
        print(f"quantize_to_trace: {name}: M {m} K {wq.shape[1]}: {int(scheme.sum())} SP2 rows, "
              f"{int((bits == 8).sum())} 8-bit rows")
    with open(os.path.join(tmp, "trace.yaml"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    os.rename(tmp, a.out)
    print(f"quantize_to_trace: wrote {a.out}")


if __name__ == "__main__":
    main()
