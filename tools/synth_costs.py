#!/usr/bin/env python3
"""Derives the per-PE and glue coefficients of configs/resources/costs.yaml from Yosys runs.

    tools/synth_costs.py [--family xc7|xcup] [--out YAML] [--check] [--point] [--only WORD]
                         [--cache DIR] [--msd-rtl DIR]
    tools/synth_costs.py --msd-gap [--msqsim BIN] [--msd-config YAML] [--json FILE]

Synthesizes the blocks in rtl/ (sp2_pe, sp2_pe_bitserial, dsp_pe_packed, dsp_pe_actpacked,
engine_glue) with `synth_xilinx` over a grid of widths and array sizes, one Yosys process per run,
hierarchically (each part of a PE is its own module, so `stat` counts it apart) and flattened (the
whole PE, for the check). Results are cached in build/synth_cache/ per run, keyed by the run, its
RTL files and the Yosys version. From the parts it derives the coefficients the resource model
multiplies (docs/resources.md, "Where the coefficients come from") and writes
configs/resources/costs.yaml (xc7; costs_yosys_xcup.yaml for xcup): the hand-written
costs_handwritten.yaml with those keys replaced, each with its derivation, under a header naming
the Yosys version and the commands. Every run goes to rtl/synth/yosys_runs_<family>.csv. It prints
the model against the synthesis, and MSD's three built designs priced by the model against MSD's
post-implementation utilization (--msd-rtl also synthesizes MSD's own PEs from a checkout).
--check compares instead of writing: exit 1 when the file differs from what the runs give.
--point synthesizes one small run afresh and compares it with the CSV (the ctest check).
--msd-gap only measures, step by step, where the LUT estimate of MSD's PYNQ-Z2 design and MSD's
published figure part (MSD's own PEs from rtl/msd/ and msqsim's through the same flow, the msqsim
binary's estimate), and prints the table of docs/resources.md, "Against MSD's published figures".

The flow is synth_xilinx without xilinx_dffopt (synth_commands), and two Yosys artefacts are not
counted as LUTs (lut_cells_vivado_drops).

A LUT is a LUT site, as Vivado's "Slice LUTs" counts them: LUT1..LUT6, INV and shift-register
LUT cells (SRL16E, SRLC32E), two of which share one LUT6 site where Vivado's LUT combining would
put them (lut_sites). The raw cell counts are in the CSV too.
"""
import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RTL = ["rtl/msq_common.v", "rtl/sp2_pe.v", "rtl/sp2_pe_bitserial.v", "rtl/dsp_pe_packed.v",
       "rtl/dsp_pe_actpacked.v", "rtl/engine_glue.v"]
# The files each top's hierarchy comes from: a cached run is redone when one of them changes.
DEPS = {
    "sp2_pe": ["rtl/msq_common.v", "rtl/sp2_pe.v"],
    "sp2_pe_bitserial": ["rtl/msq_common.v", "rtl/sp2_pe_bitserial.v"],
    "dsp_pe_packed": ["rtl/msq_common.v", "rtl/dsp_pe_packed.v"],
    "dsp_pe_actpacked": ["rtl/msq_common.v", "rtl/dsp_pe_packed.v", "rtl/dsp_pe_actpacked.v"],
    "engine_glue": ["rtl/engine_glue.v"],
}



# synth_xilinx, except xilinx_dffopt: its map_luts step is spelt out without it. xilinx_dffopt
# folds a flip-flop's synchronous reset or clock enable into the LUT that drives its D input
# whenever that LUT has a spare input, which keeps the LUT from sharing a site with another one
# (a 16-bit readout mux with its reset folded in is 16 LUT4 where 8 LUT6 sites hold it as LUT3
# pairs). Vivado's synthesis maps a synchronous reset or enable through the R/S/CE pins when it
# drives at least -control_set_opt_threshold flip-flops (default 4 on 7 series, 2 on UltraScale;
# UG949, "Controlling Enable/Reset Extraction"), and the PEs' resets and enables drive 8 to 64.
def synth_commands(family, top, flatten):
    fl = " -flatten" if flatten else ""
    head = "synth_xilinx -family %s -noiopad -top %s%s" % (family, top, fl)
    return [head + " -run :map_luts",
            "opt_expr -mux_undef -noclkinv",
            "abc -luts 2:2,3,6:5,10,20",
            "clean",
            "techmap -map +/xilinx/ff_map.v",
            "xilinx_srl -fixed -minlen 3",
            "techmap -map +/xilinx/lut_map.v -map +/xilinx/cells_map.v -D LUT_WIDTH=6",
            "opt_lut_ins -tech xilinx",
            head + " -run finalize:"]


# Names the flow in the run cache's key: a change of synth_commands redoes every run.
FLOW = "\n".join(synth_commands("F", "T", True))


def sp2_format(b):
    m1, m2 = b // 2, (b - 1) // 2
    return m1, m2, (1 << m1) - 1


def fail(msg):
    print("synth_costs: " + msg, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------------------------------------
# Yosys runs


def yosys_version():
    out = subprocess.run(["yosys", "-V"], capture_output=True, text=True, check=True).stdout
    return out.strip()


def run_batch(family, runs):
    """runs: list of (key, top, params dict, flatten). Synthesizes each and returns {key: {"stat":
    stat text, "netlist": the mapped modules of write_json}}."""
    with tempfile.TemporaryDirectory() as tmp:
        sources = " ".join(os.path.join(ROOT, f) for f in RTL)
        script = ["read_verilog " + sources, "design -save base"]
        files = {}
        for i, (key, top, params, flatten) in enumerate(runs):
            out = os.path.join(tmp, "stat%d.txt" % i)
            net = os.path.join(tmp, "net%d.json" % i)
            files[key] = (out, net)
            script.append("design -load base")
            for p, v in params.items():
                script.append("chparam -set %s %d %s" % (p, v, top))
            script.extend(synth_commands(family, top, flatten))
            script.append("tee -q -o %s stat" % out)
            script.append("write_json %s" % net)
        path = os.path.join(tmp, "runs.ys")
        with open(path, "w") as f:
            f.write("\n".join(script) + "\n")
        r = subprocess.run(["yosys", "-q", "-s", path], capture_output=True, text=True)
        if r.returncode != 0:
            fail("yosys failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
        res = {}
        for k, (out, net) in files.items():
            mods = {n: m for n, m in json.load(open(net))["modules"].items()
                    if not m.get("attributes", {}).get("blackbox")}
            res[k] = {"stat": open(out).read(), "netlist": {"modules": mods}}
        return res


LUT_CELL = re.compile(r"^(LUT[1-6]|INV)$")


def lut_function(c):
    """(input nets in port order, truth table as an int: bit sum(v_j << j) is the output for the
    inputs v_j) of a LUT1..6 or INV cell."""
    if c["type"] == "INV":
        return [c["connections"]["I"][0]], 0b01
    k = int(c["type"][3])
    ins = [c["connections"]["I%d" % j][0] for j in range(k)]
    return ins, int(str(c["parameters"]["INIT"]), 2)


def lut_eval(fn, env):
    ins, table = fn
    idx = 0
    for j, net in enumerate(ins):
        v = env[net] if isinstance(net, int) else int(net == "1")
        idx |= v << j
    return (table >> idx) & 1


def lut_cells_vivado_drops(cells):
    """(names of the LUT cells lut_sites does not count (see there): duplicates of another cell,
    and DI drivers whose bits can take an input of their S LUT instead; {a dropped duplicate's
    output net: the kept cell's})."""
    drop, seen = set(), {}
    alias = {}  # a dropped duplicate's output net -> the kept cell's
    for cname in sorted(cells):
        c = cells[cname]
        if not LUT_CELL.match(c["type"]):
            continue
        ins, table = lut_function(c)
        key = (c["type"], table, tuple(map(str, ins)))
        out = c["connections"]["O"][0]
        if key in seen:
            drop.add(cname)
            alias[out] = cells[seen[key]]["connections"]["O"][0]
        else:
            seen[key] = cname
    driver, loads = {}, {}
    for cname, c in cells.items():
        if cname in drop:
            continue
        for port, d in c.get("port_directions", {}).items():
            for b in c["connections"].get(port, []):
                if not isinstance(b, int):
                    continue
                if d == "output" and LUT_CELL.match(c["type"]):
                    driver[b] = cname
                elif d == "input":
                    loads.setdefault(alias.get(b, b), []).append((c["type"], port))
    di_ok = {}  # DI-driving LUT -> every DI bit it drives can take a plain net instead
    for c in cells.values():
        if not c["type"].startswith("CARRY"):
            continue
        for sb, db in zip(c["connections"].get("S", []), c["connections"].get("DI", [])):
            db = alias.get(db, db)
            sb = alias.get(sb, sb)
            if db not in driver:
                continue
            dc = driver[db]
            ok = False
            if sb in driver and sb != db:
                sfn = lut_function(cells[driver[sb]])
                dfn = lut_function(cells[dc])
                nets = sorted({n for n in sfn[0] + dfn[0] if isinstance(n, int)})
                if len(nets) <= 12:
                    for x in {n for n in sfn[0] if isinstance(n, int)}:
                        good = True
                        for v in range(1 << len(nets)):
                            env = {n: (v >> i) & 1 for i, n in enumerate(nets)}
                            if lut_eval(sfn, env) == 0 and lut_eval(dfn, env) != env[x]:
                                good = False
                                break
                        if good:
                            ok = True
                            break
            di_ok[dc] = di_ok.get(dc, True) and ok
    for dc, ok in di_ok.items():
        out = cells[dc]["connections"]["O"][0]
        if ok and all(t.startswith("CARRY") and p == "DI" for t, p in loads.get(out, [])):
            drop.add(dc)
    return drop, alias


def lut_sites(netlist, vivado_drops=True):
    """LUT sites per module after pairing, as Vivado's synthesis combines LUTs (on by default;
    UG901, -no_lc turns it off) into one LUT6 site with two outputs (O5, O6; UG474):
    - on a carry chain, the LUT that drives a bit's S input and the one that drives the same bit's
      DI input share a site when they have at most 5 inputs together (O6 drives S, O5 DI: the
      adder pattern of UG474's CARRY4);
    - two other LUTs share a site when they share an input and have at most 5 inputs together.
    Shift-register LUTs and LUTs of 6 inputs keep a site of their own. The pairing is greedy,
    most shared inputs first, within one module (keep_hierarchy stops Vivado there too).
    Before pairing, two mapping artefacts of Yosys that Vivado does not produce are undone
    (lut_cells_vivado_drops):
    - identical LUT cells (same type, INIT and inputs) count once: Yosys inserts one INV per
      flip-flop for an active-low synchronous reset (`if (~rst_n)`), after its last merge pass;
    - a LUT that only feeds carry DI inputs is not counted when each such bit's DI can be an input
      net x of the bit's S LUT instead (S = 0 implies DI = x): the DI of an adder bit is only read
      when its two operands are equal, so either operand serves, and Vivado takes the one that is
      a plain net through the slice's bypass input (AX..DX, UG474) where Yosys recomputes the
      other one in a LUT."""
    sites = {}
    for name, mod in netlist["modules"].items():
        if mod.get("attributes", {}).get("blackbox"):
            continue
        cells = mod.get("cells", {})
        luts = {}  # output bit -> input set
        fixed = 0
        drop, alias = lut_cells_vivado_drops(cells) if vivado_drops else (set(), {})
        for cname, c in cells.items():
            t = c["type"]
            if cname in drop:
                continue
            if t in ("SRL16E", "SRLC32E"):
                fixed += 1
            elif LUT_CELL.match(t):
                outs = [b for b in c["connections"].get("O", []) if isinstance(b, int)]
                # A duplicate's loads read the kept cell's output: the same input for pairing.
                ins = frozenset(alias.get(b, b) for port, bits in c["connections"].items()
                                if port.startswith("I") for b in bits if isinstance(b, int))
                if not outs:
                    fixed += 1
                else:
                    luts[outs[0]] = ins
        used, paired = set(), 0
        carry_driven = set()
        for c in cells.values():
            if not c["type"].startswith("CARRY"):
                continue
            S, DI = c["connections"].get("S", []), c["connections"].get("DI", [])
            carry_driven.update(b for b in S + DI if isinstance(b, int))
            for sb, db in zip(S, DI):
                if (sb in luts and db in luts and sb != db and sb not in used and db not in used
                        and len(luts[sb] | luts[db]) <= 5):
                    used.update((sb, db))
                    paired += 1
        free = [o for o in luts if o not in carry_driven and len(luts[o]) <= 5]
        pairs = []
        for i in range(len(free)):
            for j in range(i + 1, len(free)):
                a, b = luts[free[i]], luts[free[j]]
                shared = a & b
                if shared and len(a | b) <= 5:
                    pairs.append((-len(shared), len(a | b), free[i], free[j]))
        pairs.sort()
        for _, _, i, j in pairs:
            if i not in used and j not in used:
                used.update((i, j))
                paired += 1
        sites[name] = fixed + len(luts) - paired
    return sites


def parse_stat(text):
    """modules[name] = {cell type: count}."""
    modules, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^=== (.+) ===$", line.strip())
        if m:
            cur = m.group(1)
            modules[cur] = {}
            continue
        m = re.match(r"^\s+(\S+)\s+(\d+)$", line)
        if m and cur is not None and not line.strip().startswith("Number"):
            modules[cur][m.group(1)] = int(m.group(2))
    return modules


def counts(cells, sites=None):
    """lut: LUT sites after pairing (Vivado's Slice LUTs); cells: the LUT cells Yosys mapped
    (LUT1..6, INV, SRL16E/SRLC32E), an upper bound."""
    cells_n = sum(v for k, v in cells.items() if re.match(r"^(LUT\d|INV|SRL16E|SRLC32E)$", k))
    ff = sum(v for k, v in cells.items() if re.match(r"^FD[A-Z]*$", k))
    carry = sum(v for k, v in cells.items() if k.startswith("CARRY"))
    dsp = sum(v for k, v in cells.items() if k.startswith("DSP48"))
    return {"lut": cells_n if sites is None else sites, "cells": cells_n, "ff": ff, "carry": carry,
            "dsp": dsp}


ZERO = {"lut": 0, "cells": 0, "ff": 0, "carry": 0, "dsp": 0}


def sites_of(res, name):
    if "sites" not in res:
        res["sites"] = lut_sites(res["netlist"])
    s = res["sites"]
    if name in s:
        return s[name]
    # The stat names a module \\name where the JSON says name.
    return s.get(name.lstrip("\\"), s.get("\\" + name))


def flat_counts(res):
    mods = parse_stat(res["stat"])
    top = [m for m in mods if m != "design hierarchy"][-1]
    return counts(mods[top], sites_of(res, top))


def part_counts(res, top):
    """Per part: {part module type: summed counts over its instances}, and 'own' for the cells of
    the top module itself."""
    mods = parse_stat(res["stat"])
    inst = {k: v for k, v in mods[top].items() if k in mods}
    parts = {"own": counts({k: v for k, v in mods[top].items() if k not in mods},
                           sites_of(res, top))}
    for name, n in inst.items():
        # $paramod$<hash>\name, $paramod\name\P=V..., or name
        base = next(x for x in re.sub(r"^\$paramod", "", name).split("\\") if x and x[0] != "$")
        c = counts(mods[name], sites_of(res, name))
        acc = parts.setdefault(base, dict(ZERO))
        for k in acc:
            acc[k] += n * c[k]
    return parts


def total(parts):
    return {k: sum(p[k] for p in parts.values()) for k in ZERO}


# ---------------------------------------------------------------------------------------------
# Fits


def linfit(xs, ys):
    """Least squares y = s * x + c."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    s = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return s, my - s * mx


def r2(v):
    return round(v, 2)


SP2_GRID = [(a, b, acc) for a in (4, 8) for b in (3, 4, 6) for acc in (16, 32)]
DSP_GRID = [(8, 4, 21, 32), (8, 4, 21, 16), (8, 4, 12, 32), (8, 4, 16, 32)]  # a, b, D, acc
SP2_CHECK = [(8, 4, 32), (8, 4, 16), (4, 3, 24), (8, 6, 32), (6, 5, 20)]
DSP_CHECK = [(8, 4, 21, 32), (8, 4, 16, 24)]
BS_GRID = [(8, 2, 16), (8, 2, 32), (8, 3, 8), (8, 3, 16), (4, 1, 16)]  # a, m1, acc
BS_CHECK = [(8, 3, 8), (8, 2, 32)]
APK_GRID = [(8, 8, 16, 32), (8, 4, 14, 16)]  # a, weight bits, D, acc
GLUE_GRID = [(4, 4, 16), (8, 4, 16), (4, 8, 16), (4, 8, 32), (8, 8, 32)]  # R, C, ACC
GLUE_WB, GLUE_A = 4, 8


def solve(rows, ys):
    """Least squares for y = rows . c (normal equations, Gauss-Jordan; no numpy on the target)."""
    n = len(rows[0])
    m = [[sum(r[i] * r[j] for r in rows) for j in range(n)] +
         [sum(r[i] * y for r, y in zip(rows, ys))] for i in range(n)]
    for i in range(n):
        piv = max(range(i, n), key=lambda r: abs(m[r][i]))
        m[i], m[piv] = m[piv], m[i]
        if abs(m[i][i]) < 1e-12:
            fail("least squares: singular grid (column %d)" % i)
        for r in range(n):
            if r != i:
                f = m[r][i] / m[i][i]
                m[r] = [a - f * b for a, b in zip(m[r], m[i])]
    return [m[i][n] / m[i][i] for i in range(n)]


def sp2_params(a, b, acc):
    m1, m2, _ = sp2_format(b)
    return {"A": a, "M1": m1, "M2": m2, "ACC": acc}


def dsp_params(a, b, D, acc, family):
    return {"A": a, "AW": 25 if family == "xc7" else 27, "D": D, "ACC": acc}


def derive(family, hier, flat):
    """The coefficients from the hierarchical runs."""
    sh_x, sh_y, own_x, own_y, acc_x, acc_y, ro_l, ro_f, ff_rows = [], [], [], [], [], [], [], [], []
    for (a, b, acc) in SP2_GRID:
        p = hier[("sp2", a, b, acc)]
        m1, m2, F = sp2_format(b)
        sw = a + F - 1
        sh = p["sp2_shifter"]["lut"]
        sh_x.append((sw, m1, m2))
        sh_y.append(sh)
        own_x.append(sw)
        own_y.append(p["own"]["lut"])
        acc_x.append(acc)
        acc_y.append(p["msq_acc"]["lut"])
        ro_l.append(p["msq_readout"]["lut"] / acc)
        ro_f.append(p["msq_readout"]["ff"] / acc)
        ff_rows.append((a, b, acc, sum(v["ff"] for v in p.values())))
    # Shifters: the L (levels of 2:1 muxes per LUT) whose sw * (ceil(m1/L) + ceil(m2/L)) is
    # nearest to the synthesized LUTs.
    best = None
    for L in range(1, 5):
        err = sum((y - sw * (math.ceil(m1 / L) + math.ceil(m2 / L))) ** 2
                  for (sw, m1, m2), y in zip(sh_x, sh_y))
        if best is None or err < best[0]:
            best = (err, L)
    L = best[1]
    # The PE's own LUTs: the term adder (sw bits) and the control.
    adder, own_c = linfit(own_x, own_y)
    # The accumulator: add/subtract, first-load and wrap, per accumulator bit and fixed.
    acc_s, acc_c = linfit(acc_x, acc_y)
    k = {}
    k["fabric.adder_luts_per_bit"] = r2(adder)
    k["fabric.mux_levels_per_lut"] = L
    k["fabric.ffs_per_register_bit"] = 1.0
    k["lut_core.sign_luts_per_bit"] = r2(max(0.0, acc_s - adder))
    k["lut_core.sign_luts_fixed"] = r2(max(0.0, acc_c))
    k["lut_core.readout_luts_per_bit"] = r2(sum(ro_l) / len(ro_l))
    k["lut_core.readout_ffs_per_bit"] = r2(sum(ro_f) / len(ro_f))
    k["lut_core.pe_control_luts"] = r2(max(0.0, own_c))
    # FFs: every register bit is one FF; the rest of the PE's FFs are its flags, per stage.
    depth = 4
    ctrl = []
    for (a, b, acc, ff) in ff_rows:
        m1, m2, F = sp2_format(b)
        sw, pw = a + F - 1, a + F
        data = (a + b) + (2 * sw + 1) + (pw + 1) + acc + k["lut_core.readout_ffs_per_bit"] * acc
        ctrl.append((ff - data) / depth)
    k["lut_core.pe_control_ffs_per_stage"] = r2(max(0.0, sum(ctrl) / len(ctrl)))

    # DSP PE: the slice, the lane split, two lane accumulators and their readout.
    un_x, un_y, lane_s, ro_dl, ro_df, dsp_count, int_stages = [], [], [], [], [], [], []
    for (a, b, D, acc) in DSP_GRID:
        p = hier[("dsp", a, b, D, acc)]
        un_x.append(D)
        un_y.append(p["dsp_unpack"]["lut"] + p["own"]["lut"])
        lane_s.append(p["msq_acc"]["lut"] / (2 * acc))
        ro_dl.append(p["msq_readout"]["lut"] / (2 * acc))
        ro_df.append(p["msq_readout"]["ff"] / (2 * acc))
        dsp_count.append(p["msq_dsp_mac"]["dsp"])
        # Fabric FFs of the slice module: registers the slice did not absorb.
        int_stages.append(p["msq_dsp_mac"]["ff"])
    un_s, un_c = linfit(un_x, un_y)
    lane = sum(lane_s) / len(lane_s)
    k["dsp_core.dsp_per_pe"] = max(dsp_count)
    if max(int_stages) != 0:
        fail("family %s: the DSP slice module (msq_dsp_mac) left %d registers in the fabric: this"
             " Yosys does not pack the slice's registers and accumulator, so the DSP coefficients"
             " cannot be derived (the runs are in rtl/synth/yosys_runs_%s.csv)" %
             (family, max(int_stages), family))
    k["dsp_core.internal_pipeline_stages"] = 3
    k["dsp_core.unpack_luts_per_offset_bit"] = r2(max(0.0, un_s))
    k["dsp_core.unpack_luts_fixed"] = r2(max(0.0, un_c))
    # The model's lane is (adder_luts_per_bit + readout_luts_per_bit) * acc: the readout key takes
    # what the lane costs beyond the adder key.
    k["dsp_core.readout_luts_per_bit"] = r2(max(0.0, lane + sum(ro_dl) / len(ro_dl) - adder))
    k["dsp_core.readout_ffs_per_bit"] = r2(sum(ro_df) / len(ro_df))

    # Bit-serial PE: one shifter (priced by the shifter key above), and the rest fitted over the
    # accumulator width: the accumulator with its restart and sign, the readout, the flags.
    rows, ys, ffx = [], [], []
    for (a, m1, acc) in BS_GRID:
        p = hier[("bsh", a, m1, acc)]
        F = (1 << m1) - 1
        sw = a + F - 1
        t = total(p)
        rows.append([acc, 1.0])
        # Less the shifter and the product register's adder (a + F + 1 bits).
        ys.append(t["lut"] - sw * math.ceil(m1 / L) - k["fabric.adder_luts_per_bit"] * (sw + 2))
        ffx.append(t["ff"] - bitserial_register_bits(a, m1, acc))
    s_acc, c0 = solve(rows, ys)
    k["bitserial_core.luts_per_acc_bit"] = r2(max(0.0, s_acc))
    k["bitserial_core.luts_fixed"] = r2(max(0.0, c0))
    k["bitserial_core.control_ffs"] = r2(max(0.0, sum(ffx) / len(ffx)))

    # Glue: LUTs fitted over rows, columns and column output bits; FFs beyond the registers the
    # RTL names (bitwise known) fitted as a constant.
    rows, ys, ffx = [], [], []
    for (R, C, acc) in GLUE_GRID:
        t = total(hier[("glue", R, C, acc)])
        rows.append([1.0, R, C, C * acc])
        ys.append(t["lut"])
        ffx.append(t["ff"] - glue_register_bits(R, C, GLUE_WB, GLUE_A, acc))
    g0, gr, gc, gb = solve(rows, ys)
    k["glue.luts_fixed"] = r2(max(0.0, g0))
    k["glue.luts_per_row"] = r2(max(0.0, gr))
    k["glue.luts_per_col"] = r2(max(0.0, gc))
    k["glue.luts_per_col_output_bit"] = r2(max(0.0, gb))
    k["glue.ffs_fixed"] = r2(max(0.0, sum(ffx) / len(ffx)))
    return k


def bitserial_register_bits(a, m1, acc):
    """Data registers of sp2_pe_bitserial: operands, term and sign, product register,
    accumulator, readout."""
    sw = a + (1 << m1) - 2
    pw = a + (1 << m1)
    return (a + m1 + 1) + (sw + 1) + pw + 2 * acc


def glue_register_bits(R, C, wb, a, acc):
    """Data registers of engine_glue: write enables, the load word, the row and column operands,
    the held column tails and the output."""
    return R + C + 64 + R * wb + C * a + C * acc + acc


# The resource model's PE formulas (models/resource_model.cpp), for the check against the
# flattened runs and the MSD comparison.
def model_sp2_pe(k, a, b, acc, depth=4):
    m1, m2, F = sp2_format(b)
    sw, pw = a + F - 1, a + F
    L = k["fabric.mux_levels_per_lut"]
    lut = sw * (math.ceil(m1 / L) + math.ceil(m2 / L)) + k["fabric.adder_luts_per_bit"] * (sw + acc)
    lut += k["lut_core.sign_luts_per_bit"] * acc + k["lut_core.sign_luts_fixed"]
    lut += k["lut_core.readout_luts_per_bit"] * acc + k["lut_core.pe_control_luts"]
    stages = [a + b, 2 * sw + 1, pw + 1]
    pipe = sum(stages[min(s, 2)] for s in range(depth - 1))
    ff = k["fabric.ffs_per_register_bit"] * (pipe + acc) + k["lut_core.readout_ffs_per_bit"] * acc
    ff += k["lut_core.pe_control_ffs_per_stage"] * depth
    return lut, ff


def model_dsp_pe(k, a, b, D, acc, depth=4):
    lut = k["dsp_core.unpack_luts_per_offset_bit"] * D + k["dsp_core.unpack_luts_fixed"]
    lut += 2 * (k["fabric.adder_luts_per_bit"] + k["dsp_core.readout_luts_per_bit"]) * acc
    ff = 2 * (k["fabric.ffs_per_register_bit"] + k["dsp_core.readout_ffs_per_bit"]) * acc
    ff += max(0, depth - k["dsp_core.internal_pipeline_stages"]) * (a + D + b)
    return lut, ff


def model_dsp_actpacked(k, a, wb, D, acc, depth=4):
    """The activation-packed PE: the same lanes; its fabric stage carries two activations and the
    weight."""
    lut = k["dsp_core.unpack_luts_per_offset_bit"] * D + k["dsp_core.unpack_luts_fixed"]
    lut += 2 * (k["fabric.adder_luts_per_bit"] + k["dsp_core.readout_luts_per_bit"]) * acc
    ff = 2 * (k["fabric.ffs_per_register_bit"] + k["dsp_core.readout_ffs_per_bit"]) * acc
    ff += max(0, depth - k["dsp_core.internal_pipeline_stages"]) * (2 * a + wb)
    return lut, ff


def model_bitserial_pe(k, a, m1, acc):
    sw = a + (1 << m1) - 2
    pw = a + (1 << m1)
    lut = sw * math.ceil(m1 / k["fabric.mux_levels_per_lut"]) + k["fabric.adder_luts_per_bit"] * pw
    lut += k["bitserial_core.luts_per_acc_bit"] * acc + k["bitserial_core.luts_fixed"]
    ff = k["fabric.ffs_per_register_bit"] * bitserial_register_bits(a, m1, acc)
    ff += k["bitserial_core.control_ffs"]
    return lut, ff


def model_glue(k, R, C, wb, a, acc):
    lut = k["glue.luts_fixed"] + k["glue.luts_per_row"] * R + k["glue.luts_per_col"] * C
    lut += k["glue.luts_per_col_output_bit"] * C * acc
    ff = k["fabric.ffs_per_register_bit"] * glue_register_bits(R, C, wb, a, acc)
    ff += k["glue.ffs_fixed"]
    return lut, ff


# ---------------------------------------------------------------------------------------------
# Cost file


INT_KEYS = {"fabric.mux_levels_per_lut", "dsp_core.dsp_per_pe", "dsp_core.internal_pipeline_stages"}


def fmt(key, v):
    if key in INT_KEYS:
        return str(int(v))
    t = ("%.2f" % v).rstrip("0")
    return t + "0" if t.endswith(".") else t


def update_costs(text, k, notes, header):
    lines = text.split("\n")
    out, section = [], None
    # The generated header: replaced on each run, between its markers.
    begin, end = "# --- tools/synth_costs.py: begin ---", "# --- tools/synth_costs.py: end ---"
    if begin in lines:
        i, j = lines.index(begin), lines.index(end)
        lines = lines[:i] + lines[j + 1:]
    # At the top, above the template's own comment block.
    head = [begin] + ["# " + h if h else "#" for h in header] + [end]
    lines = head + lines
    for line in lines:
        m = re.match(r"^(\w+):\s*$", line)
        if m:
            section = m.group(1)
        m = re.match(r"^(  )(\w+):\s*(\S+)(.*)$", line)
        key = "%s.%s" % (section, m.group(2)) if m else None
        if key in k:
            # Replace the key's own comment block with the derivation.
            while out and out[-1].startswith("  #"):
                out.pop()
            for n in notes[key]:
                out.append("  # " + n)
            out.append("%s%s: %s" % (m.group(1), m.group(2), fmt(key, k[key])))
            continue
        out.append(line)
    return "\n".join(out)


# MSD's three built designs (hardware/README.md of CASR-HKU/MSD-FCCM23: post-implementation LUT,
# DSP, BRAM36; array sizes from each board's rtl/def.sv). Its buffers are one buf_sdp (an
# xpm_memory_sdpram in block RAM) per array row (weights) and per column (activations, outputs):
# 32 Kb each on PYNQ-Z2 and Ultra96 (the PYNQ-Z2's weight buffers 16 Kb), 64 Kb on ZCU102.
MSD_DESIGNS = [
    # name, LUT, DSP, BRAM36, DSP A port, bit-serial R x C, DSP R x C, buffer BRAM36
    ("PYNQ-Z2 (XC7Z020)", 38090, 214, 139, 25, (40, 40), (14, 15),
     40 * 1 + 40 * 0.5 + 40 * 1 + 15 * 1 + 14 * 0.5 + 15 * 1),
    ("Ultra96 (XCZU3EG)", 55710, 264, 194, 27, (48, 48), (16, 16), 3 * 48 + 3 * 16),
    ("ZCU102 (XCZU9EG)", 151690, 2312, 771, 27, (80, 80), (48, 48), 2 * (3 * 80 + 3 * 48)),
]


def fixed_blocks(text):
    """The template's fixed blocks for two AXI ports: LUT, DSP, BRAM18."""
    def num(section, key):
        m = re.search(r"\n%s:\s*\n(?:\s+#.*\n|\s+\w+:.*\n)*?\s+%s:\s*(\S+)" % (section, key), text)
        return float(m.group(1))
    lut = 2 * num("dma", "luts_per_port") + num("control", "luts")
    dsp = num("control", "requant_units") * num("control", "dsp_per_requant_unit")
    bram18 = 2 * num("dma", "bram18_per_port") + num("buffers", "command_fifo_bram18")
    return lut, dsp, bram18


def msd_design(k, text, design, acc):
    """The estimate for one of MSD's designs: its bit-serial array (a = 8, digits of 1 + 3 bits as
    MSD's 4-bit weight index) and its activation-packed DSP array (8-bit weights, the largest lane
    offset the A port allows), each with its glue, accumulators of `acc` bits, plus the template's
    fixed blocks."""
    name, lut, dsp, bram, aw, (br, bc), (dr, dc), buf = design
    a, m1, wb = 8, 3, 8
    D = aw - a - 1
    bs = model_bitserial_pe(k, a, m1, acc)[0]
    dp = model_dsp_actpacked(k, a, wb, D, acc)[0]
    g_bs = model_glue(k, br, bc, m1 + 1, a, acc)[0]
    g_dp = model_glue(k, dr, dc, wb, 2 * a, 2 * acc)[0]
    f_lut, f_dsp, f_bram18 = fixed_blocks(text)
    parts = {"bit-serial PEs": br * bc * bs, "bit-serial glue": g_bs, "DSP PEs": dr * dc * dp,
             "DSP glue": g_dp, "DMA + control": f_lut}
    return parts, dr * dc + f_dsp, buf + math.ceil(f_bram18 / 2), bs, dp


def msd_comparison(k, text):
    print("MSD's designs against this model (Yosys-derived coefficients; DMA, AXI and control"
          " are the hand-written fixed blocks, MSD's own 10k LUT figure):")
    for design in MSD_DESIGNS:
        name, lut, dsp, bram = design[:4]
        for acc in (8, 16, 32):
            parts, m_dsp, m_bram, bs, dp = msd_design(k, text, design, acc)
            tot = sum(parts.values())
            print("  %-18s acc %2d: %7.0f LUT (%+5.0f%% of %d) = %s; PE %.1f / %.1f LUT;"
                  " DSP %d (%+.1f%% of %d); BRAM36 %d (%+.1f%% of %d)" % (
                      name, acc, tot, 100.0 * (tot - lut) / lut, lut,
                      " + ".join("%s %.0f" % kv for kv in parts.items()), bs, dp, m_dsp,
                      100.0 * (m_dsp - dsp) / dsp, dsp, m_bram, 100.0 * (m_bram - bram) / bram,
                      bram))


def msd_own_pes(family, rtl_dir, text):
    """MSD's own PE RTL through the same flow (flattened, LUT sites after pairing), and MSD's
    designs priced with those PEs plus the same fixed blocks: what this flow makes of MSD's design
    itself, against MSD's post-implementation figures."""
    res = {}
    for top, files in (("lut_pe", ["lut_pe.sv", "bit_serial_mul.sv", "mp_lsf.sv"]),
                       ("dsp_pe", ["dsp_pe.sv"])):
        with tempfile.TemporaryDirectory() as tmp:
            net = os.path.join(tmp, "net.json")
            paths = " ".join(os.path.join(rtl_dir, f) for f in files)
            script = "read_verilog -sv -I%s %s; %s; tee -q -o %s/stat.txt stat; write_json %s" % (
                rtl_dir, paths, "; ".join(synth_commands(family, top, True)), tmp, net)
            r = subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True)
            if r.returncode != 0:
                fail("yosys on %s failed:\n%s" % (paths, (r.stdout + r.stderr)[-2000:]))
            sites = lut_sites(json.load(open(net)))
            res[top] = counts(parse_stat(open(os.path.join(tmp, "stat.txt")).read())[top],
                              sites[top])
    print("MSD's own PEs through this flow (%s): lut_pe %d LUT sites (%d cells) + %d FF (MSD: 17"
          " LUT + 23 FF); dsp_pe %d LUT sites (%d cells) + %d FF + %d DSP (MSD: 9 LUT + 20 FF)" % (
              rtl_dir, res["lut_pe"]["lut"], res["lut_pe"]["cells"], res["lut_pe"]["ff"],
              res["dsp_pe"]["lut"], res["dsp_pe"]["cells"], res["dsp_pe"]["ff"],
              res["dsp_pe"]["dsp"]))
    f_lut = fixed_blocks(text)[0]
    for name, lut, dsp, bram, aw, (br, bc), (dr, dc), buf in MSD_DESIGNS:
        tot = br * bc * res["lut_pe"]["lut"] + dr * dc * res["dsp_pe"]["lut"] + f_lut
        print("  %-18s with MSD's PEs: %7.0f LUT (%+5.0f%% of %d)" % (
            name, tot, 100.0 * (tot - lut) / lut, lut))


# ---------------------------------------------------------------------------------------------
# Where msqsim's LUT estimate of MSD's PYNQ-Z2 design and MSD's published figure part
# (--msd-gap; docs/resources.md, "Against MSD's published figures").

MSD_RTL = os.path.join(ROOT, "rtl/msd")
# MSD's per-PE costs (software/msd_scheduler/devices/xc7z020_8b.ini: BS_PE_LUTs, BP_PE_LUTs,
# other_module_LUTs) and its post-implementation total (hardware/README.md), PYNQ-Z2.
MSD_PE_LUT, MSD_DSP_PE_LUT, MSD_OTHER_LUT, MSD_PYNQ_LUT = 17, 9, 10000, 38090


def yosys_one(files, top, params, flatten, commands, pre=()):
    """One Yosys process: read files, set params, run commands; returns (stat modules, netlist)."""
    with tempfile.TemporaryDirectory() as tmp:
        net = os.path.join(tmp, "net.json")
        script = ["read_verilog -sv -I%s %s" % (MSD_RTL, " ".join(files))]
        script += list(pre)
        script += ["chparam -set %s %d %s" % (p, v, top) for p, v in params.items()]
        script += commands
        script += ["tee -q -o %s/stat.txt stat" % tmp, "write_json %s" % net]
        r = subprocess.run(["yosys", "-q", "-p", "; ".join(script)], capture_output=True,
                           text=True)
        if r.returncode != 0:
            fail("yosys on %s failed:\n%s" % (" ".join(files), (r.stdout + r.stderr)[-2000:]))
        mods = {n: m for n, m in json.load(open(net))["modules"].items()
                if not m.get("attributes", {}).get("blackbox")}
        return {"stat": open(os.path.join(tmp, "stat.txt")).read(), "netlist": {"modules": mods}}


def cost_file_keys(path):
    """The cost file's numbers as {"section.key": value} (the file is two-level YAML)."""
    k, sec = {}, None
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    for line in lines:
        m = re.match(r"^(\w+):\s*$", line)
        if m:
            sec = m.group(1)
            continue
        m = re.match(r"^\s+(\w+):\s*([-0-9.eE]+)\s*(#.*)?$", line)
        if m and sec:
            k[sec + "." + m.group(1)] = float(m.group(2))
    return k


def msqsim_json(binary, config, sets=()):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        cmd = [binary, "run", config, "--allow-overfull", "--no-verify", "--json", out]
        for s in sets:
            cmd += ["--set", s]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            fail("%s failed (%d):\n%s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
        return json.load(open(out))


def msd_gap(family, rtl_dir, binary, config):
    """Measures, step by step, where the LUT estimate of config (MSD's PYNQ-Z2 design) and MSD's
    published figure part, and prints the table; returns the figures for the test."""
    if not os.path.exists(binary):
        fail("%s not found: build msqsim first (tools/setup.sh build), or pass --msqsim" % binary)
    msd_pe = [os.path.join(rtl_dir, f) for f in ("lut_pe.sv", "bit_serial_mul.sv", "mp_lsf.sv")]
    msd_dsp = [os.path.join(rtl_dir, "dsp_pe.sv")]
    for f in msd_pe + msd_dsp:
        if not os.path.exists(f):
            fail("%s not found (MSD's PE RTL: rtl/msd/ or --msd-rtl DIR)" % f)
    plain = ["synth_xilinx -family %s -noiopad -top %s -flatten" % (family, "%s")]
    f = {}

    def sites(res, top, vivado_drops=True):
        return lut_sites(res["netlist"], vivado_drops)[top]

    # (a) the tool: MSD's own PEs, three ways.
    for name, files, top in (("lut_pe", msd_pe, "lut_pe"), ("dsp_pe", msd_dsp, "dsp_pe")):
        sx = yosys_one(files, top, {}, True, [plain[0] % top])
        f[name + ".synth_xilinx_pairing"] = sites(sx, top, vivado_drops=False)
        f[name + ".synth_xilinx"] = sites(sx, top)
        f[name] = sites(yosys_one(files, top, {}, True, synth_commands(family, top, True)), top)
    arr = yosys_one(msd_pe + [os.path.join(ROOT, "rtl/msd/msd_lut_array.v")], "msd_lut_array",
                    {"ROWS": 4, "COLS": 4}, True, synth_commands(family, "msd_lut_array", True),
                    pre=["setattr -mod -unset keep_hierarchy lut_pe"])
    f["lut_pe.in_4x4_array"] = sites(arr, "msd_lut_array") / 16.0

    # The run: the estimate, the accumulator, what each network needs.
    run = msqsim_json(binary, config)
    res = run["resources"]
    lines = {l["block"]: l for l in res["breakdown"]}
    acc = run["config"]["accelerator"]["accumulator"]["bits"]
    engines = run["config"]["accelerator"]["engines"]
    bs = next(e for e in engines if e["impl"] == "lut_sp2_bitserial")
    dp = next(e for e in engines if e["impl"] == "dsp48_actpack")
    n_bs, n_dp = bs["rows"] * bs["cols"], dp["rows"] * dp["cols"]
    need = {}
    for net in ("msd_resnet18", "msd_vgg16", "msd_mobilenet_v2"):
        need[net] = msqsim_json(binary, config, ["workload.network=" + net])["overflow"][
            "bits_needed"]

    # msqsim's PEs at the config's accumulator and at MSD's 8-bit partial sums.
    rtl = [os.path.join(ROOT, p) for p in RTL]
    for w in sorted({acc, 8}):
        p = {"A": 8, "M1": 3, "ACC": w}
        r = yosys_one(rtl, "sp2_pe_bitserial", p, True,
                      synth_commands(family, "sp2_pe_bitserial", True))
        f["bitserial.%d" % w] = sites(r, "sp2_pe_bitserial")
        aw = 25 if family == "xc7" else 27
        p = {"A": 8, "WB": 8, "AW": aw, "D": aw - 9, "ACC": w}
        r = yosys_one(rtl, "dsp_pe_actpacked", p, False,
                      synth_commands(family, "dsp_pe_actpacked", False))
        f["actpacked.%d" % w] = total(part_counts(r, "dsp_pe_actpacked"))["lut"]
    hp = part_counts(yosys_one(rtl, "sp2_pe_bitserial", {"A": 8, "M1": 3, "ACC": acc}, False,
                               synth_commands(family, "sp2_pe_bitserial", False)),
                     "sp2_pe_bitserial")

    k = cost_file_keys(os.path.join(ROOT, "configs/resources/costs.yaml"))
    est = res["lut"]["used"]
    fixed = lines["dma"]["lut"] + lines["control"]["lut"]
    steps = []
    steps.append(("msqsim's estimate of %s (cost file, acc %d)" % (os.path.relpath(config, ROOT),
                                                                     acc), est, ""))
    no_vec = est - lines["vector"]["lut"]
    steps.append(("(d) less the vector engine (%d lanes; MSD has none)" % (
        run["config"]["accelerator"]["vector"]["lanes"]), no_vec, "model"))
    # The glue is what the two core lines hold beyond their PEs.
    glue = lines["lut_core"]["lut"] + lines["dsp_core"]["lut"] \
        - n_bs * model_bitserial_pe(k, 8, 3, acc)[0] \
        - n_dp * model_dsp_actpacked(k, 8, 8, 16 if family == "xc7" else 18, acc)[0]
    no_glue = no_vec - glue
    steps.append(("(d) less the arrays' glue (MSD counts it in its 10k other logic)", no_glue,
                  "model"))
    y_acc = n_bs * f["bitserial.%d" % acc] + n_dp * f["actpacked.%d" % acc] + fixed
    steps.append(("PEs as synthesized (%d x %d + %d x %d LUT) instead of the model" % (
        n_bs, f["bitserial.%d" % acc], n_dp, f["actpacked.%d" % acc]), y_acc, "Yosys"))
    y8 = n_bs * f["bitserial.8"] + n_dp * f["actpacked.8"] + fixed
    steps.append(("(b) msqsim's PEs at MSD's 8-bit partial sums (%d, %d LUT)" % (
        f["bitserial.8"], f["actpacked.8"]), y8, "Yosys"))
    ymsd = n_bs * f["lut_pe"] + n_dp * f["dsp_pe"] + fixed
    steps.append(("(c) MSD's own PEs, same flow (lut_pe %d, dsp_pe %d LUT)" % (
        f["lut_pe"], f["dsp_pe"]), ymsd, "Yosys"))
    vmsd = n_bs * MSD_PE_LUT + n_dp * MSD_DSP_PE_LUT + MSD_OTHER_LUT
    steps.append(("(a) MSD's per-PE figures (Vivado: %d, %d LUT) and its 10k other logic" % (
        MSD_PE_LUT, MSD_DSP_PE_LUT), vmsd, "MSD ini"))
    steps.append(("MSD's post-implementation LUTs (hardware/README.md)", MSD_PYNQ_LUT, "MSD"))

    print("MSD's PEs through this flow, flattened, LUT sites (%s):" % family)
    print("  %-44s %8s %8s %8s" % ("", "lut_pe", "dsp_pe", "MSD says"))
    print("  %-44s %8d %8d" % ("synth_xilinx, LUT combining only",
                               f["lut_pe.synth_xilinx_pairing"], f["dsp_pe.synth_xilinx_pairing"]))
    print("  %-44s %8d %8d" % ("+ duplicates and DI operands not counted",
                               f["lut_pe.synth_xilinx"], f["dsp_pe.synth_xilinx"]))
    print("  %-44s %8d %8d %5d, %d" % ("+ no xilinx_dffopt (this repository's flow)",
                                       f["lut_pe"], f["dsp_pe"], MSD_PE_LUT, MSD_DSP_PE_LUT))
    print("  %-44s %8.1f" % ("lut_pe in a 4x4 array, per PE", f["lut_pe.in_4x4_array"]))
    print("msqsim's bit-serial PE (a=8, m1=3, acc %d) by part (hierarchical): %s" % (
        acc, ", ".join("%s %d" % (p, c["lut"]) for p, c in sorted(hp.items()))))
    print("accumulator: %d bits; the networks need (bound from the bit widths): %s" % (
        acc, ", ".join("%s %d" % kv for kv in need.items())))
    print("\n| step | LUT | against MSD's %d | from |" % MSD_PYNQ_LUT)
    print("|---|---:|---:|---|")
    for name, v, src in steps:
        print("| %s | %s | %.2fx | %s |" % (name, "{:,.0f}".format(v), v / MSD_PYNQ_LUT, src))
    f.update({"estimate": est, "acc": acc, "need": need, "steps": steps})
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", default="xc7", choices=["xc7", "xcup"])
    ap.add_argument("--template",
                    default=os.path.join(ROOT, "configs/resources/costs_handwritten.yaml"),
                    help="the cost file whose synthesized keys are replaced (default: the"
                    " hand-written one)")
    ap.add_argument("--out", default=None,
                    help="where to write (default configs/resources/costs.yaml, the file the"
                    " model loads, for xc7; costs_yosys_xcup.yaml for xcup)")
    ap.add_argument("--runs", default=None, help="CSV of every run (default rtl/synth/)")
    ap.add_argument("--check", action="store_true", help="compare with the cost file, do not write")
    ap.add_argument("--cache", default=os.path.join(ROOT, "build", "synth_cache"),
                    help="directory of cached Yosys results, keyed by the run, the RTL and the"
                    " Yosys version (default build/synth_cache)")
    ap.add_argument("--only", default=None,
                    help="synthesize only the runs whose key contains this word (e.g. glue) and"
                    " print their counts; for a quick check, writes nothing")
    ap.add_argument("--point", action="store_true",
                    help="synthesize one small run (the bit-serial PE, a=8, m1=3, acc 8) afresh,"
                    " in a temporary cache, and check that its counts equal the ones recorded in"
                    " rtl/synth/yosys_runs_FAMILY.csv: exit 1 when they differ (the ctest check)")
    ap.add_argument("--msd-rtl", default=None, metavar="DIR",
                    help="also synthesize MSD's own PEs (lut_pe.sv, dsp_pe.sv of a checkout of"
                    " CASR-HKU/MSD-FCCM23, e.g. DIR = hardware/vivado/pynqz2/rtl) with the same"
                    " flow and price MSD's designs with them (default with --msd-gap: rtl/msd)")
    ap.add_argument("--msd-gap", action="store_true",
                    help="only measure where the LUT estimate of --msd-config and MSD's published"
                    " figure part, step by step (synthesizes MSD's PEs and msqsim's at both"
                    " widths, runs --msqsim), and print the table")
    ap.add_argument("--msqsim", default=os.path.join(ROOT, "build", "msqsim"),
                    help="the msqsim binary --msd-gap runs (default build/msqsim)")
    ap.add_argument("--msd-config", default=os.path.join(ROOT, "configs/msd/pynq_z2.yaml"),
                    help="the design --msd-gap prices (default configs/msd/pynq_z2.yaml)")
    ap.add_argument("--json", default=None, metavar="FILE",
                    help="with --msd-gap: also write the measured figures to FILE")
    args = ap.parse_args()
    fam = args.family
    if args.msd_gap:
        try:
            yosys_version()
        except (OSError, subprocess.CalledProcessError) as e:
            fail("cannot run yosys (tools/setup.sh installs it): %s" % e)
        figs = msd_gap(fam, args.msd_rtl or MSD_RTL, args.msqsim, args.msd_config)
        if args.json:
            tmp = args.json + ".tmp"
            with open(tmp, "w") as f:
                json.dump(figs, f, indent=1)
            os.replace(tmp, args.json)
        return
    if args.point:
        args.only = "bsh"
        args.cache = tempfile.mkdtemp(prefix="synth_costs_")
    name = "costs.yaml" if fam == "xc7" else "costs_yosys_%s.yaml" % fam
    out_path = args.out or os.path.join(ROOT, "configs/resources", name)
    try:
        version = yosys_version()
    except (OSError, subprocess.CalledProcessError) as e:
        fail("cannot run yosys (tools/setup.sh installs it): %s" % e)

    runs = []
    for (a, b, acc) in SP2_GRID:
        runs.append((("sp2", a, b, acc), "sp2_pe", sp2_params(a, b, acc), False))
    for (a, b, D, acc) in DSP_GRID:
        runs.append((("dsp", a, b, D, acc), "dsp_pe_packed", dsp_params(a, b, D, acc, fam), False))
    for (a, b, acc) in SP2_CHECK:
        runs.append((("sp2f", a, b, acc), "sp2_pe", sp2_params(a, b, acc), True))
    for (a, b, D, acc) in DSP_CHECK:
        runs.append((("dspf", a, b, D, acc), "dsp_pe_packed", dsp_params(a, b, D, acc, fam), True))
    for (a, m1, acc) in BS_GRID:
        runs.append((("bsh", a, m1, acc), "sp2_pe_bitserial", {"A": a, "M1": m1, "ACC": acc},
                     False))
    for (a, m1, acc) in BS_CHECK:
        runs.append((("bs", a, m1, acc), "sp2_pe_bitserial", {"A": a, "M1": m1, "ACC": acc}, True))
    aw = 25 if fam == "xc7" else 27
    for (a, wb, D, acc) in APK_GRID:
        runs.append((("apk", a, wb, D, acc), "dsp_pe_actpacked",
                     {"A": a, "WB": wb, "AW": aw, "D": D, "ACC": acc}, False))
    for (R, C, acc) in GLUE_GRID:
        runs.append((("glue", R, C, acc), "engine_glue",
                     {"R": R, "C": C, "WB": GLUE_WB, "A": GLUE_A, "ACC": acc}, False))
    if args.only:
        runs = [r for r in runs if args.only in r[0][0]]
    if args.point:
        runs = [r for r in runs if r[0] == ("bsh", 8, 3, 8)]

    # Each run gets a Yosys process of its own: ABC's mapping depends on the netlist's history in
    # the process (the same PE synthesized after other runs in one process came out up to 1.6x
    # larger), and a run should not depend on which runs came before it. Results are cached per
    # run under a hash of the run, the RTL and the Yosys version: only changed runs are redone.
    os.makedirs(args.cache, exist_ok=True)
    stats = {}
    for r in runs:
        key, top, params, flatten = r
        h = hashlib.sha256(version.encode())
        h.update(FLOW.encode())
        for f in DEPS[top]:
            h.update(open(os.path.join(ROOT, f), "rb").read())
        name = hashlib.sha256(json.dumps([fam, h.hexdigest(), list(key), top, params, flatten])
                              .encode()).hexdigest()[:24]
        path = os.path.join(args.cache, name + ".json")
        if os.path.exists(path):
            stats[key] = json.load(open(path))
            continue
        print("synth_costs: yosys %s %s%s" % (top, " ".join("%s=%d" % kv for kv in params.items()),
                                            " (flattened)" if flatten else ""), file=sys.stderr)
        stats.update(run_batch(fam, [r]))
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"stat": stats[key]["stat"], "netlist": stats[key]["netlist"]}, f)
        os.replace(tmp, path)

    hier, flat = {}, {}
    for key, top, params, flatten in runs:
        if flatten:
            flat[key] = flat_counts(stats[key])
        else:
            hier[key] = part_counts(stats[key], top)
    if args.point:
        shutil.rmtree(args.cache, ignore_errors=True)
        key, top, params, flatten = runs[0]
        ps = " ".join("%s=%d" % kv for kv in params.items())
        got = sorted("hier,%s,%s,%s,%d,%d,%d,%d,%d" % (top, ps, part, c["lut"], c["cells"], c["ff"],
                                                        c["carry"], c["dsp"])
                     for part, c in hier[key].items())
        path = args.runs or os.path.join(ROOT, "rtl/synth/yosys_runs_%s.csv" % fam)
        try:
            rec = sorted(l.strip() for l in open(path) if l.startswith("hier,%s,%s," % (top, ps)))
        except OSError as e:
            fail("%s: %s" % (path, e.strerror))
        if got != rec:
            print("synth_costs: %s %s: Yosys gives\n  %s\nbut %s records\n  %s" % (
                top, ps, "\n  ".join(got), os.path.relpath(path, ROOT), "\n  ".join(rec)))
            return 1
        print("synth_costs: %s %s: the fresh Yosys run equals %s (%d parts)" % (
            top, ps, os.path.relpath(path, ROOT), len(got)))
        return 0
    if args.only:
        for key, top, params, flatten in runs:
            c = flat[key] if flatten else total(hier[key])
            print("%-60s LUT sites %4d (cells %4d) FF %4d CARRY4 %3d DSP %d" % (
                "%s %s" % (top, " ".join("%s=%d" % kv for kv in params.items())), c["lut"],
                c["cells"], c["ff"], c["carry"], c["dsp"]))
        return 0
    # Every run, for the record.
    runs_path = args.runs or os.path.join(ROOT, "rtl/synth/yosys_runs_%s.csv" % fam)
    os.makedirs(os.path.dirname(runs_path), exist_ok=True)
    rows = ["run,top,params,part,lut,lut_cells,ff,carry,dsp"]
    for key, top, params, flatten in runs:
        ps = " ".join("%s=%d" % kv for kv in params.items())
        parts = {"pe": flat[key]} if flatten else hier[key]
        for part, c in sorted(parts.items()):
            rows.append("%s,%s,%s,%s,%d,%d,%d,%d,%d" % (
                "flat" if flatten else "hier", top, ps, part, c["lut"], c["cells"], c["ff"],
                c["carry"], c["dsp"]))
    if not args.check:
        tmp = runs_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(rows) + "\n")
        os.replace(tmp, runs_path)

    k = derive(fam, hier, flat)

    cmd = "tools/synth_costs.py --family %s" % fam
    synth = "synth_xilinx -family %s -noiopad" % fam
    src = "Yosys run"
    notes = {
        "fabric.adder_luts_per_bit": [
            "%s: the SP2 PE's own LUTs (its term adder of sw = a + F - 1 bits" % src,
            "and the flags) fitted over sw; the slope. Each adder bit is a LUT on the CARRY",
            "chain."],
        "fabric.mux_levels_per_lut": [
            "%s: the two sp2_shifter parts; the L for which" % src,
            "sw * (ceil(m1 / L) + ceil(m2 / L)) is nearest to their LUTs (m1, m2 in 1..3)."],
        "fabric.ffs_per_register_bit": [
            "One slice flip-flop per register bit (UG474). The Yosys runs agree: every data",
            "register",
            "bit of the PEs is one FDRE, and the FFs beyond them are pe_control_ffs_per_stage."],
        "lut_core.sign_luts_per_bit": [
            "%s: msq_acc (add/subtract, first-load, wrap) fitted over" % src,
            "acc in {16, 32}: the slope beyond fabric.adder_luts_per_bit. Yosys puts the restart",
            "(first ? 0 : acc) in a LUT of its own before the carry chain's LUT."],
        "lut_core.sign_luts_fixed": ["%s: msq_acc's intercept." % src],
        "lut_core.readout_luts_per_bit": [
            "%s: msq_readout per bit (a load-or-shift LUT3 per bit; two bits" % src,
            "share the two selects and so one LUT6 site)."],
        "lut_core.readout_ffs_per_bit": ["%s: msq_readout's FDRE per bit." % src],
        "lut_core.pe_control_ffs_per_stage": [
            "%s: the PE's FFs beyond its data registers, per stage" % src,
            "(valid, first, last; Yosys maps the deeper flag delays to SRL16E, counted as LUTs)."],
        "lut_core.pe_control_luts": [
            "%s: intercept of the PE's own LUTs (flags, done strobe, SRLs)." % src],
        "dsp_core.dsp_per_pe": ["%s: one DSP48 per dsp_pe_packed." % src],
        "dsp_core.internal_pipeline_stages": [
            "%s: the slice absorbs A/B, M and P registers and the" % src,
            "restart of P (no fabric cell in msq_dsp_mac); the operand register before it is",
            "fabric."],
        "dsp_core.unpack_luts_per_offset_bit": [
            "%s: dsp_unpack plus the PE's own LUTs (drain flags) fitted" % src,
            "over D in {12, 16, 21}: the slope. The high lane's borrow is a CARRY chain, no LUT."],
        "dsp_core.unpack_luts_fixed": ["%s: the same fit's intercept." % src],
        "dsp_core.readout_luts_per_bit": [
            "%s: per lane, msq_acc (restart, add, wrap) plus msq_readout," % src,
            "per accumulator bit, beyond fabric.adder_luts_per_bit."],
        "dsp_core.readout_ffs_per_bit": ["%s: msq_readout's FDRE per bit." % src],
        "bitserial_core.luts_per_acc_bit": [
            "%s: sp2_pe_bitserial (a, m1, acc) in %s, its LUT sites" % (src, BS_GRID),
            "less the shifter (fabric.mux_levels_per_lut) and the product register's adder",
            "(fabric.adder_luts_per_bit * (a + F + 1)) fitted over acc: the slope (accumulator",
            "with its restart on the carry chain, readout mux)."],
        "bitserial_core.luts_fixed": ["%s: the same fit's intercept (flags, done strobe)." % src],
        "bitserial_core.control_ffs": [
            "%s: the PE's FFs beyond its data registers (operands, term and sign," % src,
            "product, accumulator, readout), averaged over the grid."],
        "glue.luts_fixed": [
            "%s: engine_glue (R, C, acc) in %s, LUT sites fitted as" % (src, GLUE_GRID),
            "fixed + per_row * R + per_col * C + per_col_output_bit * C * acc (least squares):",
            "the fixed part (sequencer counters and compares, drain counter)."],
        "glue.luts_per_row": ["%s: the same fit, per row (row buffer write enable)." % src],
        "glue.luts_per_col": ["%s: the same fit, per column (column buffer write enable)." % src],
        "glue.luts_per_col_output_bit": [
            "%s: the same fit, per column and output bit (the C:1 output mux)." % src],
        "glue.ffs_fixed": [
            "%s: engine_glue's FFs beyond its data registers (load word, write" % src,
            "enables, operands, held tails, output), averaged over the grid."],
    }
    notes = {key: textwrap.wrap(" ".join(v), 96) for key, v in notes.items()}
    header = [
        "GENERATED by tools/synth_costs.py from costs_handwritten.yaml: the keys marked \"Yosys",
        "run\" come from Yosys synthesis of rtl/ (docs/resources.md, \"Where the coefficients",
        "come from\"); the others (buffers, dma, control) are the hand-written ones.",
        "  %s" % version,
        "  %s   # writes this file and rtl/synth/yosys_runs_%s.csv" % (cmd, fam),
        "  per run, one Yosys process each: read_verilog " + " ".join(RTL[:2]),
        "    " + " ".join(RTL[2:]) + ";",
        "    chparam ...;",
        "    %s -top TOP [-flatten] -run :map_luts;" % synth,
        "    " + "; ".join(synth_commands(fam, "TOP", False)[1:4]) + ";",
        "    " + "; ".join(synth_commands(fam, "TOP", False)[4:6]) + ";",
        "    " + synth_commands(fam, "TOP", False)[6] + ";",
        "    " + synth_commands(fam, "TOP", False)[7] + ";",
        "    %s -top TOP [-flatten] -run finalize:; stat; write_json" % synth,
        "    (synth_xilinx without xilinx_dffopt, which folds resets and enables into LUTs)",
        "LUT = LUT sites: LUT1..6, INV, SRL16E/SRLC32E cells, two of which share one LUT6 site as",
        "Vivado's LUT combining does (UG901, UG474 O5/O6): a carry bit's S and DI drivers, or two",
        "LUTs off the carry chain that share an input, each pair with at most 5 inputs together.",
        "Not counted: a LUT identical to another (same INIT and inputs), and a LUT that only feeds",
        "carry DI inputs whose bits can take an input of their S LUT instead.",
        "FF = FDRE/FDSE.",
    ]
    try:
        text = open(args.template).read()
    except OSError as e:
        fail("%s: %s" % (args.template, e.strerror))
    new = update_costs(text, k, notes, header)

    # The model with these coefficients against the flattened synthesis of whole PEs.
    print("%s, family %s" % (version, fam))
    print("%-34s %8s %8s %8s %8s" % ("PE (flattened synthesis)", "yosysLUT", "modelLUT", "yosysFF",
                                      "modelFF"))
    worst = 0.0
    worst_h = 0.0
    for (a, b, acc) in SP2_GRID:
        hp = hier[("sp2", a, b, acc)]
        y = sum(v["lut"] for v in hp.values())
        worst_h = max(worst_h, abs(model_sp2_pe(k, a, b, acc)[0] - y) / y)
    for (a, b, D, acc) in DSP_GRID:
        hp = hier[("dsp", a, b, D, acc)]
        y = sum(v["lut"] for v in hp.values())
        worst_h = max(worst_h, abs(model_dsp_pe(k, a, b, D, acc)[0] - y) / y)
    for (a, b, acc) in SP2_CHECK:
        y = flat[("sp2f", a, b, acc)]
        ml, mf = model_sp2_pe(k, a, b, acc)
        worst = max(worst, abs(ml - y["lut"]) / y["lut"])
        print("%-34s %8d %8.1f %8d %8.1f" % ("sp2_pe a=%d b=%d acc=%d" % (a, b, acc), y["lut"], ml,
                                             y["ff"], mf))
    for (a, b, D, acc) in DSP_CHECK:
        y = flat[("dspf", a, b, D, acc)]
        ml, mf = model_dsp_pe(k, a, b, D, acc)
        worst = max(worst, abs(ml - y["lut"]) / y["lut"])
        print("%-34s %8d %8.1f %8d %8.1f" % ("dsp_pe_packed a=%d b=%d D=%d acc=%d" % (a, b, D, acc),
                                             y["lut"], ml, y["ff"], mf))
    print("largest LUT difference, model against the sum of the synthesized parts: %.1f%%" %
          (100 * worst_h))
    print("largest LUT difference, model against the flattened PEs above: %.1f%%" % (100 * worst))

    for (a, m1, acc) in BS_CHECK:
        y = flat[("bs", a, m1, acc)]
        ml, mf = model_bitserial_pe(k, a, m1, acc)
        print("%-34s %8d %8.1f %8d %8.1f" % ("sp2_pe_bitserial a=%d m1=%d acc=%d" % (a, m1, acc),
                                             y["lut"], ml, y["ff"], mf))
    print("%-34s %8s %8s %8s %8s" % ("part (hierarchical synthesis)", "yosysLUT", "modelLUT",
                                      "yosysFF", "modelFF"))
    for (a, wb, D, acc) in APK_GRID:
        y = total(hier[("apk", a, wb, D, acc)])
        ml, mf = model_dsp_actpacked(k, a, wb, D, acc)
        print("%-34s %8d %8.1f %8d %8.1f" % ("dsp_pe_actpacked a=%d w=%d D=%d acc=%d" % (
            a, wb, D, acc), y["lut"], ml, y["ff"], mf))
    for (R, C, acc) in GLUE_GRID:
        y = total(hier[("glue", R, C, acc)])
        ml, mf = model_glue(k, R, C, GLUE_WB, GLUE_A, acc)
        print("%-34s %8d %8.1f %8d %8.1f" % ("engine_glue %dx%d acc=%d" % (R, C, acc), y["lut"], ml,
                                             y["ff"], mf))
    msd_comparison(k, new)
    if args.msd_rtl:
        msd_own_pes(fam, args.msd_rtl, new)

    if args.check:
        old = open(out_path).read() if os.path.exists(out_path) else ""
        if new != old:
            print("synth_costs: %s differs from the Yosys runs (run %s)" % (out_path, cmd))
            return 1
        print("synth_costs: %s matches the Yosys runs" % out_path)
        return 0
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, out_path)
    print("wrote %s and %s" % (os.path.relpath(out_path, ROOT), os.path.relpath(runs_path, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
