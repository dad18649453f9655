#!/usr/bin/env python3
"""Derives the per-PE coefficients of configs/resources/costs.yaml from Yosys runs over rtl/.

    tools/synth_costs.py [--family xc7|xcup] [--out YAML] [--check]

Synthesizes the processing elements in rtl/ (sp2_pe, sp2_pe_bitserial, dsp_pe_packed) with
`synth_xilinx` over a small grid of widths, one Yosys process per run, hierarchically (each part of
a PE is its own module, so `stat` counts it apart) and flattened (the whole PE, for the check).
From the parts it derives the coefficients the resource model multiplies (docs/resources.md,
"Where the coefficients come from"), and writes configs/resources/costs_yosys_<family>.yaml: the
model's cost file (--template) with those keys replaced, each with its derivation, under a header
naming the Yosys version and the command. Every run goes to rtl/synth/yosys_runs_<family>.csv. It
prints the model's PE estimate against the synthesis, and an MSD-sized XC7Z020 design against
MSD's published utilization. --check compares instead of writing: exit 1 when the file differs
from what the runs give. --out configs/resources/costs.yaml adopts the coefficients.

A LUT is counted as Vivado's "Slice LUTs" counts it: LUT1..LUT6, INV and shift-register LUTs
(SRL16E, SRLC32E). Yosys does not pack two small LUTs into one LUT6 site (Vivado does), so these
counts are an upper bound of a post-implementation count.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RTL = ["rtl/msq_common.v", "rtl/sp2_pe.v", "rtl/sp2_pe_bitserial.v", "rtl/dsp_pe_packed.v"]

# MSD (FCCM 2023), XC7Z020 at 100 MHz, post-implementation: 40x40 bit-serial LUT PEs and a 14x15
# DSP array; MSD's hardware/README.md.
MSD = {"lut": 38090, "dsp": 214, "bram36": 139, "lut_pe": (40, 40), "dsp_pe": (14, 15)}


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
    """runs: list of (key, top, params dict, flatten). One Yosys process reads the sources once and
    synthesizes every run from a saved copy. Returns {key: stat text}."""
    with tempfile.TemporaryDirectory() as tmp:
        sources = " ".join(os.path.join(ROOT, f) for f in RTL)
        script = ["read_verilog " + sources, "design -save base"]
        files = {}
        for i, (key, top, params, flatten) in enumerate(runs):
            out = os.path.join(tmp, "stat%d.txt" % i)
            files[key] = out
            script.append("design -load base")
            for p, v in params.items():
                script.append("chparam -set %s %d %s" % (p, v, top))
            script.append("synth_xilinx -family %s -noiopad -top %s%s" %
                          (family, top, " -flatten" if flatten else ""))
            script.append("tee -q -o %s stat" % out)
        path = os.path.join(tmp, "runs.ys")
        with open(path, "w") as f:
            f.write("\n".join(script) + "\n")
        r = subprocess.run(["yosys", "-q", "-s", path], capture_output=True, text=True)
        if r.returncode != 0:
            fail("yosys failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
        return {k: open(v).read() for k, v in files.items()}


def parse_stat(text):
    """Returns (modules, top_name, hierarchy): modules[name] = {cell type: count}; the hierarchy's
    instance counts of the top module's submodules."""
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


def counts(cells):
    lut = sum(v for k, v in cells.items() if re.match(r"^(LUT\d|INV|SRL16E|SRLC32E)$", k))
    ff = sum(v for k, v in cells.items() if re.match(r"^FD[A-Z]*$", k))
    carry = sum(v for k, v in cells.items() if k.startswith("CARRY"))
    dsp = sum(v for k, v in cells.items() if k.startswith("DSP48"))
    return {"lut": lut, "ff": ff, "carry": carry, "dsp": dsp}


def flat_counts(text):
    mods = parse_stat(text)
    top = [m for m in mods if m != "design hierarchy"]
    return counts(mods[top[-1]])


def part_counts(text, top):
    """Per part: {part module type: summed counts over its instances}, and 'own' for the cells of
    the top module itself."""
    mods = parse_stat(text)
    parts = {"own": {"lut": 0, "ff": 0, "carry": 0, "dsp": 0}}
    inst = {k: v for k, v in mods[top].items() if k in mods}
    parts["own"] = counts({k: v for k, v in mods[top].items() if k not in mods})
    for name, n in inst.items():
        # $paramod$<hash>\name, $paramod\name\P=V..., or name
        base = next(x for x in re.sub(r"^\$paramod", "", name).split("\\") if x and x[0] != "$")
        c = counts(mods[name])
        acc = parts.setdefault(base, {"lut": 0, "ff": 0, "carry": 0, "dsp": 0})
        for k in acc:
            acc[k] += n * c[k]
    return parts


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
SERIAL = [(8, 3, 8), (8, 3, 16), (8, 3, 32), (8, 2, 32)]  # a, m1, acc


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
    return k


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
    # After the leading comment block.
    first = next(i for i, l in enumerate(lines) if not l.startswith("#"))
    head = [begin] + ["# " + h if h else "#" for h in header] + [end]
    lines = lines[:first] + head + lines[first:]
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", default="xc7", choices=["xc7", "xcup"])
    ap.add_argument("--template", default=os.path.join(ROOT, "configs/resources/costs.yaml"),
                    help="the cost file whose per-PE keys are replaced (default: the model's)")
    ap.add_argument("--out", default=None,
                    help="where to write (default configs/resources/costs_yosys_FAMILY.yaml)")
    ap.add_argument("--runs", default=None, help="CSV of every run (default rtl/synth/)")
    ap.add_argument("--check", action="store_true", help="compare with the cost file, do not write")
    ap.add_argument("--stats", default=None,
                    help="JSON of the raw Yosys stat outputs: reused when it exists, else written")
    args = ap.parse_args()
    fam = args.family
    out_path = args.out or os.path.join(ROOT, "configs/resources/costs_yosys_%s.yaml" % fam)
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
    for (a, m1, acc) in SERIAL:
        runs.append((("bs", a, m1, acc), "sp2_pe_bitserial", {"A": a, "M1": m1, "ACC": acc}, True))
        runs.append((("bsh", a, m1, acc), "sp2_pe_bitserial", {"A": a, "M1": m1, "ACC": acc},
                     False))
    if args.stats and os.path.exists(args.stats):
        raw = json.load(open(args.stats))
        stats = {tuple(json.loads(k)): v for k, v in raw.items()}
    else:
        # Each run gets a Yosys process of its own: ABC's mapping depends on the netlist's history
        # in the process (the same PE synthesized after other runs in one process came out up to
        # 1.6x larger), and a run should not depend on which runs came before it.
        stats = {}
        for r in runs:
            stats.update(run_batch(fam, [r]))
        if args.stats:
            with open(args.stats, "w") as f:
                json.dump({json.dumps(k): v for k, v in stats.items()}, f)

    hier, flat = {}, {}
    for key, top, params, flatten in runs:
        if flatten:
            flat[key] = flat_counts(stats[key])
        else:
            hier[key] = part_counts(stats[key], top)
    # Every run, for the record.
    runs_path = args.runs or os.path.join(ROOT, "rtl/synth/yosys_runs_%s.csv" % fam)
    os.makedirs(os.path.dirname(runs_path), exist_ok=True)
    rows = ["run,top,params,part,lut,ff,carry,dsp"]
    for key, top, params, flatten in runs:
        ps = " ".join("%s=%d" % kv for kv in params.items())
        parts = {"pe": flat[key]} if flatten else hier[key]
        for part, c in sorted(parts.items()):
            rows.append("%s,%s,%s,%s,%d,%d,%d,%d" % ("flat" if flatten else "hier", top, ps, part,
                                                      c["lut"], c["ff"], c["carry"], c["dsp"]))
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
            "%s: msq_readout (load-or-shift, one LUT per bit: Yosys does" % src,
            "not pair two LUT5 in one LUT6 as Vivado can)."],
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
    }
    notes = {key: textwrap.wrap(" ".join(v), 96) for key, v in notes.items()}
    header = [
        "The per-PE keys marked \"Yosys run\" are generated by tools/synth_costs.py from Yosys",
        "synthesis of rtl/ (docs/resources.md, \"Where the coefficients come from\"):",
        "  %s" % version,
        "  %s   # writes costs_yosys_%s.yaml and rtl/synth/yosys_runs_%s.csv" % (cmd, fam, fam),
        "  per PE: read_verilog rtl/*.v; chparam; %s [-flatten]; stat" % synth,
        "LUT = LUT1..6 + INV + SRL16E/SRLC32E, FF = FDRE, as Vivado's Slice LUTs / Registers.",
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
    for (a, m1, acc) in SERIAL:
        y = flat[("bs", a, m1, acc)]
        print("%-34s %8d %8s %8d  (2 cycles per weight; no engine in the model yet)" % (
            "sp2_pe_bitserial a=%d m1=%d acc=%d" % (a, m1, acc), y["lut"], "", y["ff"]))

    # An MSD-sized design on the XC7Z020: 40x40 LUT PEs and 14x15 DSP PEs, plus the template's
    # fixed blocks (DMA for two ports, control), against MSD's post-implementation utilization.
    fixed = re.search(r"dma:\s*\n(?:\s+#.*\n)*\s+luts_per_port:\s*(\S+)", new)
    ctrl = re.search(r"control:\s*\n(?:\s+#.*\n)*\s+luts:\s*(\S+)", new)
    other = 2 * float(fixed.group(1)) + float(ctrl.group(1))
    (lr, lc), (dr, dc) = MSD["lut_pe"], MSD["dsp_pe"]
    dsp_model = model_dsp_pe(k, 8, 4, 21, 32)[0]
    print("MSD-sized XC7Z020 design, MSD post-implementation %d LUT / %d DSP: 40x40 LUT PEs +"
          " 14x15 DSP PEs (a=8, b=4, D=21, acc 32: %.0f LUT each by the model) + %d LUT of"
          " DMA/control" % (MSD["lut"], MSD["dsp"], dsp_model, other))

    def line(name, pe_lut):
        total = lr * lc * pe_lut + dr * dc * dsp_model + other
        print("  %-44s %6.1f LUT/PE -> %7.0f LUT (%+.0f%% against MSD), %d DSP" % (
            name, pe_lut, total, 100.0 * (total - MSD["lut"]) / MSD["lut"], dr * dc))

    line("bit-parallel sp2_pe a=8 b=4 acc=32 (model)", model_sp2_pe(k, 8, 4, 32)[0])
    for (a, m1, acc) in SERIAL:
        hp = hier[("bsh", a, m1, acc)]
        line("bit-serial a=%d m1=%d acc=%d (hierarchical)" % (a, m1, acc),
             sum(v["lut"] for v in hp.values()))
        line("bit-serial a=%d m1=%d acc=%d (flattened)" % (a, m1, acc),
             flat[("bs", a, m1, acc)]["lut"])
    hp = hier[("bsh", 8, 3, 8)]
    print("  bit-serial a=8 m1=3 acc=8 by part: " + ", ".join(
        "%s %d" % (name, c["lut"]) for name, c in sorted(hp.items())) + " LUT (MSD's PE: 17)")

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
