#!/usr/bin/env python3
"""ctest synth.lut_counting_rules: the LUT counting of tools/synth_costs.py (lut_sites) on small
hand-made netlists in Yosys's JSON form, so that each rule is checked apart from any synthesis:

- identical INV cells (one per flip-flop of an active-low reset, as Yosys maps it) are one LUT;
- a LUT that only feeds a carry bit's DI is not counted when the bit's S LUT computes
  DI xor x for an input net x (DI can take x), and is counted when S = 0 does not imply that DI
  equals one of S's inputs, or when the LUT has another load;
- two LUT3 off the carry chain that share two inputs pair into one site.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import synth_costs as sc  # noqa: E402


def lut(k, ins, out, fn):
    """A LUTk cell computing fn(v0..vk-1) over its input nets ins, output net out."""
    init = 0
    for i in range(1 << k):
        if fn(*[(i >> j) & 1 for j in range(k)]):
            init |= 1 << i
    conns = {"I%d" % j: [n] for j, n in enumerate(ins)}
    conns["O"] = [out]
    dirs = {"I%d" % j: "input" for j in range(k)}
    dirs["O"] = "output"
    return {"type": "LUT%d" % k, "parameters": {"INIT": format(init, "0%db" % (1 << k))},
            "connections": conns, "port_directions": dirs}


def inv(i, o):
    return {"type": "INV", "parameters": {}, "connections": {"I": [i], "O": [o]},
            "port_directions": {"I": "input", "O": "output"}}


def ff(d, r, q):
    return {"type": "FDRE", "parameters": {}, "connections": {"D": [d], "R": [r], "Q": [q],
                                                             "C": [1], "CE": ["1"]},
            "port_directions": {"D": "input", "R": "input", "C": "input", "CE": "input",
                                "Q": "output"}}


def carry(s, di, co):
    return {"type": "CARRY4", "parameters": {},
            "connections": {"S": [s], "DI": [di], "CI": ["0"], "CYINIT": ["0"], "CO": [co]},
            "port_directions": {"S": "input", "DI": "input", "CI": "input", "CYINIT": "input",
                                "CO": "output"}}


def sites(cells):
    return sc.lut_sites({"modules": {"m": {"cells": cells}}})["m"]


def main():
    bad = []
    # Nets: 2 rst_n, 3..6 data, 10+ outputs.
    # Three, because two INVs of one net pair into one site anyway.
    cells = {"i1": inv(2, 20), "i2": inv(2, 21), "i3": inv(2, 22), "f1": ff(3, 20, 30),
             "f2": ff(4, 21, 31), "f3": ff(5, 22, 32)}
    if sites(cells) != 1:
        bad.append("three identical INVs: %d LUTs, want 1" % sites(cells))

    # DI = f (the shifted operand, 5 inputs), S = f ^ acc (6 inputs): 7 > 5 inputs together, so
    # no pairing; DI can be acc, so the DI LUT is not counted.
    def f(a, b, c, d, e):
        return b if a else c ^ d ^ e
    ok = {"di": lut(5, [3, 4, 5, 6, 7], 40, f),
          "s": lut(6, [3, 4, 5, 6, 7, 8], 41, lambda a, b, c, d, e, x: f(a, b, c, d, e) ^ x),
          "c": carry(41, 40, 42)}
    if sites(ok) != 1:
        bad.append("DI replaceable by the S LUT's input: %d LUTs, want 1" % sites(ok))
    # S = ~f & x: when S = 0, DI = f equals no input of S: the DI LUT stays.
    no = dict(ok)
    no["s"] = lut(6, [3, 4, 5, 6, 7, 8], 41, lambda a, b, c, d, e, x: (1 - f(a, b, c, d, e)) & x)
    if sites(no) != 2:
        bad.append("DI not replaceable: %d LUTs, want 2" % sites(no))
    # The DI LUT also feeds a flip-flop: it stays.
    used = dict(ok)
    used["f"] = ff(40, "0", 50)
    if sites(used) != 2:
        bad.append("DI LUT with another load: %d LUTs, want 2" % sites(used))

    pair = {"a": lut(3, [3, 4, 5], 60, lambda s, x, y: x if s else y),
            "b": lut(3, [3, 4, 6], 61, lambda s, x, y: x if s else y)}
    if sites(pair) != 1:
        bad.append("two LUT3 sharing two inputs: %d sites, want 1" % sites(pair))
    for b in bad:
        print("FAIL: " + b)
    print("ok" if not bad else "%d failures" % len(bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
