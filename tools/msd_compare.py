#!/usr/bin/python3
"""Compare msqsim with MSD (FCCM 2023), layer by layer.

For each design/network point MSD published, runs msqsim timing-only on the board's config
(configs/msd/*.yaml, one config per board; only the network changes between the points
of a board), matches its layers with the per-layer cycles of MSD's own simulator
(tools/msd_reference.csv) and prints, per layer, MSD's cycles, msqsim's, their ratio and each
side's bound; per point, msqsim's total against MSD's simulator and against the latency MSD
measured on the board. The targets (docs/msd.md): a layer MSD finds compute-bound within 10% of
its cycles, a memory-bound one within 20%, every total within 10% of the measured latency.

With --as-run, msqsim runs the schedule MSD's board ran instead of its own mapping search: MSD's
per-layer tiles and LUT share (the reference file) become a mapping file per point
(accelerator.scheduler.mapping: given, docs/mapping.md), and each layer's rows are split between
the arrays as MSD split them (its LUT share as SP2 rows, the rest 8-bit: the per-layer fractions
workload.sp2_fraction_per_layer and fixed8_fraction_per_layer), run on each board as built; the table
then also gives the cycles of the instructions the board ran for that schedule (MSD's host code
and its controller's lock step, board_stream) and the per-tile read latency the board's measured
time would need on top of them.

Examples:
  tools/msd_compare.py                                  # all five points
  tools/msd_compare.py --as-run                         # the same, on the schedules the boards ran
  tools/msd_compare.py --point pynq-z2/resnet18 --set accelerator.scheduler.spill=false
  tools/msd_compare.py --json cmp.json --keep-reports out/   # machine-readable, keep msqsim's JSON

Exit codes: 0 the comparison ran (with --check: and every target passed); 1 with --check when a
target failed; 2 bad usage or a missing input (config, reference file, msqsim binary), or msqsim
refused a config.
"""
import argparse
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The latencies MSD measured on the boards (hardware/README.md of CASR-HKU/MSD-FCCM23, "Expected
# Results", the camera-ready figures), with each board's clock and post-implementation usage.
# Arrays: (LUT PEs per side, DSP slice rows, DSP slice columns), as MSD's scheduler planned them
# (software/msd_scheduler/archs/*.ini) and as built (hardware/vivado/*/rtl/def.sv); bytes per
# cycle of each AXI master (hardware_bandwidth); "host": the array sizes the board's host code
# (hardware/host/*/run_eval.py, hw_arch) wrote into the instructions it ran: LUT side, DSP slices.
BOARDS = {
    "pynq-z2": {"config": "configs/msd/pynq_z2.yaml", "device": "XC7Z020", "mhz": 100,
                "klut": 38.09, "dsp": 214, "bram36": 139,
                "planned": (40, 14, 15), "built": (40, 14, 15), "bw": 8, "host": (40, 15)},
    "ultra96": {"config": "configs/msd/ultra96.yaml", "device": "XCZU3EG", "mhz": 214,
                "klut": 55.71, "dsp": 264, "bram36": 194,
                "planned": (48, 16, 16), "built": (48, 16, 16), "bw": 16, "host": (100, 48)},
    "zcu102": {"config": "configs/msd/zcu102.yaml", "device": "XCZU9EG", "mhz": 214,
               "klut": 151.69, "dsp": 2312, "bram36": 771,
               "planned": (100, 48, 48), "built": (80, 48, 48), "bw": 16, "host": (80, 48)},
}
POINTS = [  # (board, network, published latency in ms)
    ("pynq-z2", "resnet18", 26.31),
    ("pynq-z2", "vgg16", 287.18),
    ("pynq-z2", "mobilenet_v2", 16.40),
    ("ultra96", "resnet18", 7.72),
    ("zcu102", "resnet18", 5.69),
]
# The other points MSD measured and scheduled (--extra): the same board configs on more networks.
EXTRA_POINTS = [
    ("ultra96", "vgg16", 74.22),
    ("ultra96", "resnet50", 29.06),
    ("ultra96", "mobilenet_v2", 7.41),
    ("zcu102", "vgg16", 52.70),
    ("zcu102", "resnet50", 15.94),
]
TARGET = {"compute": 0.10, "memory": 0.20, "total": 0.10}


class InputProblem(Exception):
    """A missing or unreadable input: exit 2 with this message."""


class ArgumentParser(argparse.ArgumentParser):
    """A bad option is one line and exit 2, as msqsim's are (argparse printed its usage too)."""

    def error(self, message):
        sys.stderr.write(f"msd_compare: {message} (see msd_compare.py --help)\n")
        sys.exit(2)


# Optional columns of the reference that the comparison reads as numbers.
REF_INTS = ("k_tile", "k_tiles", "c_tile", "c_tiles", "o_tile", "o_tiles", "kernel", "stride", "eb")


def load_reference(path):
    """MSD's per-layer cycles: {(board, network): [row, ...]} in MSD's layer order."""
    if not os.path.isfile(path):
        raise InputProblem(f"{path}: MSD's per-layer reference is missing (expected a CSV with "
                           "board,network,layer,cycles,...,bound)")
    ref = {}
    try:
        # utf-8-sig: a byte order mark is not part of the first column's name.
        with open(path, newline="", encoding="utf-8-sig") as f:
            lines = [line for line in f if not line.startswith("#")]
    except (OSError, UnicodeDecodeError) as e:
        raise InputProblem(f"{path}: cannot read MSD's per-layer reference "
                           f"({getattr(e, 'strerror', None) or e})")
    reader = csv.DictReader(lines)
    need = {"board", "network", "layer", "cycles", "bound"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise InputProblem(f"{path}: header must name the columns {', '.join(sorted(need))}")
    for i, row in enumerate(reader, start=2):
        # A short row gives None for its missing cells: int(None) was a TypeError traceback.
        if None in row.values() or None in row:
            raise InputProblem(f"{path}: data row {i}: expected {len(reader.fieldnames)} cells, "
                               f"as the header has")
        try:
            row["cycles"] = int(row["cycles"])
        except ValueError:
            raise InputProblem(f"{path}: data row {i}: cycles: expected an integer "
                               f"(got {row['cycles']!r})")
        if row["cycles"] < 1:
            raise InputProblem(f"{path}: data row {i}: cycles: expected an integer >= 1 "
                               f"(got {row['cycles']})")
        if row["bound"] not in ("compute", "memory"):
            raise InputProblem(f"{path}: data row {i}: bound: expected compute or memory "
                               f"(got {row['bound']!r})")
        # A tile of 0 was a ZeroDivisionError traceback under --as-run; a ratio of 7 or a
        # negative count ran as if it were MSD's.
        for col in REF_INTS + ("ratio",):
            if row.get(col):
                try:
                    v = float(row[col]) if col == "ratio" else int(row[col])
                except ValueError:
                    raise InputProblem(f"{path}: data row {i}: {col}: expected "
                                       f"{'a number' if col == 'ratio' else 'an integer'} "
                                       f"(got {row[col]!r})")
                if not (0 <= v <= 1 if col == "ratio" else v >= 1):
                    want = "a number in 0..1" if col == "ratio" else "an integer >= 1"
                    raise InputProblem(f"{path}: data row {i}: {col}: expected {want} "
                                       f"(got {row[col]!r})")
        ref.setdefault((row["board"], row["network"]), []).append(row)
    return ref


def find_msqsim(arg):
    if arg:
        if not (os.path.isfile(arg) and os.access(arg, os.X_OK)):
            raise InputProblem(f"{arg}: --msqsim: not an executable file")
        return arg
    built = os.path.join(ROOT, "build", "msqsim")
    if os.path.isfile(built) and os.access(built, os.X_OK):
        return built
    found = shutil.which("msqsim")
    if found:
        return found
    raise InputProblem(f"no msqsim binary: {built} does not exist and msqsim is not on PATH "
                       "(build it with tools/setup.sh build, or pass --msqsim PATH)")


def describe(report):
    """The design msqsim ran, from its resolved config: engines, tiling, row split."""
    try:
        acc = report["config"]["accelerator"]
        # Each engine entry carries its own shape (the engine list); a report of the old
        # two-core spelling has it under lut_core / dsp_core.
        cores = {"lut_sp2": acc.get("lut_core", {}), "lut_sp2_bitserial": acc.get("lut_core", {}),
                 "dsp48": acc.get("dsp_core", {}), "dsp48_actpack": acc.get("dsp_core", {})}

        def shape(e):
            c = e if "rows" in e else cores.get(e["impl"], {})
            return f"{c.get('rows', '?')}x{c.get('cols', '?')}"
        engines = ", ".join(f"{e['impl']} {shape(e)}" for e in acc["engines"])
        sch = acc.get("scheduler", {})
        split = f"mapping {sch.get('mapping', 'fixed')}, balance {sch.get('balance', 'fixed')}, " \
                f"spill {'on' if sch.get('spill') else 'off'}"
        w = report["config"]["workload"]
        rows = f"SP2 rows {w['sp2_fraction']:g}, 8-bit rows {w['fixed8_fraction']:g}"
        return f"{engines}; {split}; {rows}"
    except (KeyError, TypeError, AttributeError):
        return "(the report does not give the resolved config)"


# --as-run: every row of the schedules may run on either array (MSD's weights all have two
# digits); msqsim's rows are SP2 (LUT array) or 8-bit fixed point (DSP array) by scheme, so each
# layer gets MSD's split as its own scheme mix: its LUT rows SP2, the rest 8-bit. Moving SP2 rows
# to the DSP array instead (a lut_share below the SP2 rows) would not do on the PYNQ-Z2: an SP2
# row's 9-bit integer weights do not pack two activations into a DSP48E1, so such a row runs at
# half MSD's rate there. The mapping file's lut_share equals the SP2 share: no row moves.


def read_shapes(path):
    """The layer shapes of an MSD network file (configs/workloads/msd_*.yaml, one flow mapping a
    line as tools/msd_workloads.py writes them): {name: {m, in_c, out_h, out_w, groups, fc}}."""
    if not os.path.isfile(path):
        raise InputProblem(f"{path}: the network file is missing")
    shapes = {}
    with open(path) as f:
        for i, line in enumerate(f, start=1):
            m = re.match(r"\s*- \{name: ([^,]+), type: (\w+), input: (\[[^\]]*\]|\d+), "
                         r"out_channels: (\d+)(.*)\}\s*$", line)
            if not m:
                continue
            name, kind, inp, out_c, rest = m.groups()
            if kind == "fc":
                shapes[name] = {"m": int(out_c), "in_c": int(inp), "out_h": 1, "out_w": 1,
                                "groups": 1, "fc": True}
                continue
            try:
                c, h, w = (int(v) for v in inp.strip("[]").split(","))
                kh, kw = (int(v) for v in re.search(r"kernel: \[(\d+), (\d+)\]", rest).groups())
                st = int(re.search(r"stride: (\d+)", rest).group(1))
                ph, pw = (int(v) for v in re.search(r"padding: \[(\d+), (\d+)\]", rest).groups())
            except (AttributeError, ValueError):
                raise InputProblem(f"{path}:{i}: layer {name}: expected input [C, H, W], kernel, "
                                   "stride and padding")
            g = re.search(r"groups: (\d+)", rest)
            shapes[name] = {"m": int(out_c), "in_c": c, "out_h": (h + 2 * ph - kh) // st + 1,
                            "out_w": (w + 2 * pw - kw) // st + 1,
                            "groups": int(g.group(1)) if g else 1, "fc": False}
    return shapes


def output_slot_bytes(config):
    """Bytes of one output-buffer slot of a board config (accelerator.buffers.output_bram36
    BRAM36 of 4 KB, halved when double-buffered, msqsim's default)."""
    with open(config) as f:
        text = f.read()
    m = re.search(r"output_bram36:\s*(\d+)", text)
    if not m:
        raise InputProblem(f"{config}: --as-run needs accelerator.buffers.output_bram36")
    single = re.search(r"double_buffer:\s*false", text) is not None
    return int(m.group(1)) * 4096 // (1 if single else 2)


def as_run_row(row, shape, out_slot):
    """One mapping-file row (docs/mapping.md, "A given mapping") for MSD's schedule of a layer:
    its output-channel tile (k; a depthwise layer's channel tile), its input-channel tile (c),
    its o x o pixel tile and the LUT share; whether the pixel tile had to be cut; and the layer's
    SP2 share (its LUT rows over its rows, the lut_share as a number). The o x o square is
    msqsim's box of o rows by o columns (whole rows when o covers the output's width); msqsim
    clips the boxes at the output's edges where MSD's cover pixels outside it. The rows on the LUT
    array are MSD's int(tile x share) per tile. When the input channels are split, msqsim keeps
    32-bit partial sums in the output buffer where MSD's PE keeps 8-bit ones and writes them out:
    a pixel tile whose partial sums do not fit one output-buffer slot is cut to the most rows of
    it (else the most columns of one row) that fit."""
    kt, nk, ct, nc, ot = (int(row[c]) for c in ("k_tile", "k_tiles", "c_tile", "c_tiles", "o_tile"))
    share = float(row["ratio"])
    m = shape["m"]
    if shape["groups"] > 1:  # as msd_model: the channels of a depthwise tile
        tile_m, k_channels = (kt if nc == 1 and nk > 1 else ct), ""
    else:
        tile_m, k_channels = kt, ct
    tile_m = min(tile_m, m)
    lut_rows = min(m, int(tile_m * share) * ceil_div(m, tile_m))
    cut = False
    if shape["fc"]:
        tile_rows, tile_cols = 1, ""
    else:
        ho, wo = shape["out_h"], shape["out_w"]
        tile_rows, tile_cols = min(ho, ot), (ot if ot < wo else "")
        if k_channels != "" and k_channels < shape["in_c"]:
            fit_px = out_slot // (tile_m * 4)
            if tile_rows * (tile_cols or wo) > fit_px:
                # No longer MSD's tile: the fewest pixel tiles that fit (each tile loads the
                # weights again when they stream), of o columns or of whole rows, as a box when
                # both give as many; else a part of one row.
                cut = True
                fits = [(ceil_div(ho, fit_px // w) * ceil_div(wo, w), i, fit_px // w, w)
                        for i, w in enumerate((tile_cols or wo, wo)) if fit_px >= w]
                if fits:
                    _, _, tile_rows, w = min(fits)
                    tile_cols = w if w < wo else ""
                else:
                    tile_rows, tile_cols = 1, max(1, fit_px)
    return [row["layer"], tile_m, k_channels, tile_rows, tile_cols, repr(lut_rows / m)], cut, \
        (lut_rows, m)


def write_as_run_mapping(path, board, network, ref_rows, shapes_path, out_slot):
    """The mapping file of MSD's schedule for one point; returns its path, the layers whose
    pixel tile was cut to fit the partial sums and each layer's split {layer: (LUT rows, rows)}."""
    shapes = read_shapes(shapes_path)
    cut_layers, split = [], {}
    lines = [f"# MSD's schedule for {board}/{network} (tools/msd_reference.csv), written by "
             "tools/msd_compare.py --as-run",
             "layer,tile_m,k_channels,tile_rows,tile_cols,lut_share"]
    for r in ref_rows:
        if r["layer"] not in shapes:
            raise InputProblem(f"{shapes_path}: no layer {r['layer']} (MSD's layer names "
                               "expected)")
        try:
            cells, cut, split[r["layer"]] = as_run_row(r, shapes[r["layer"]], out_slot)
        except (KeyError, ValueError):
            raise InputProblem(f"{board}/{network}: layer {r['layer']}: the reference gives no "
                               "schedule (k_tile, k_tiles, c_tile, c_tiles, o_tile, ratio)")
        lines.append(",".join(str(v) for v in cells))
        if cut:
            cut_layers.append(r["layer"])
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except OSError as e:  # e.g. --keep-reports holds a directory of that name
        if os.path.isfile(tmp):
            os.remove(tmp)
        raise InputProblem(f"{path}: cannot write the as-run mapping file ({e.strerror})")
    return path, cut_layers, split


# The keys --as-run sets for every run.
AS_RUN_KEYS = ("accelerator.scheduler.mapping", "accelerator.scheduler.mapping_file",
               "workload.sp2_fraction_per_layer", "workload.fixed8_fraction_per_layer")


def as_run_sets(split):
    """The --set overrides that give every layer of `split` ({layer: (LUT rows, rows)}) MSD's
    scheme mix: its LUT rows SP2, the others 8-bit fixed point."""
    sp2 = ", ".join(f"{n}: {lut / m!r}" for n, (lut, m) in split.items())
    f8 = ", ".join(f"{n}: {(m - lut) / m!r}" for n, (lut, m) in split.items())
    return [f"workload.sp2_fraction_per_layer={{{sp2}}}",
            f"workload.fixed8_fraction_per_layer={{{f8}}}"]


def write_output(path, text):
    """Writes a finished output as msqsim does (docs/cli.md): through a symlink to the file it
    names, to a temporary name renamed into place; a device or a pipe (/dev/null, /dev/stdout) in
    place. Renaming over /dev/null replaced the device node for every process on the machine."""
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        with open(path, "a") as f:
            f.write(text)
        return
    target = os.path.realpath(path)
    tmp = f"{target}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, target)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise InputProblem(f"{path}: --json: cannot write ({e.strerror})")


def run_msqsim(msqsim, config, network, sets, out_json):
    """Runs one point timing-only and returns msqsim's JSON report."""
    cmd = [msqsim, "run", config, "--no-verify", "--allow-overfull", "--json", out_json,
           "--set", f"workload.network=msd_{network}"]
    for s in sets:
        cmd += ["--set", s]
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           errors="replace")
    except OSError as e:  # not a program (no #! line, another machine's binary)
        raise InputProblem(f"{msqsim}: cannot run msqsim ({e.strerror})")
    if p.returncode != 0 or not os.path.isfile(out_json):
        err = p.stderr.strip().splitlines()
        raise InputProblem(f"msqsim failed on {config} with network msd_{network} "
                           f"(exit {p.returncode}): {err[-1] if err else 'no message'}")
    try:
        with open(out_json) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        raise InputProblem(f"{out_json}: msqsim's report does not read as JSON ({e})")
    if not (isinstance(report, dict) and isinstance(report.get("layers"), list)
            and isinstance(report.get("total"), dict) and isinstance(report.get("config"), dict)):
        raise InputProblem(f"{out_json}: not a report of msqsim run (is {msqsim} msqsim?)")
    return report, cmd


def ceil_div(a, b):
    return -(-a // b)


def msd_model(row, layer, arrays, bw):
    """MSD's per-tile cost (its scheduler's model, as docs/msd.md describes it) of the schedule in
    `row` (its tile sizes, LUT share and digits per weight) on `arrays`: every tile costs the
    slowest of LUT compute, DSP compute, loading its weights and activations (two masters of `bw`
    bytes per cycle) and writing its outputs; the layer adds one load before and one write after.
    `layer`: msqsim's report of the same layer (m, k, n). Returns (cycles, DRAM bytes), or
    (None, None) without a schedule."""
    try:
        kt, nk, ct, nc, ot, no = (int(row[c]) for c in
                                  ("k_tile", "k_tiles", "c_tile", "c_tiles", "o_tile", "o_tiles"))
        f, stride, eb, share = int(row["kernel"]), int(row["stride"]), int(row["eb"]), float(row["ratio"])
    except (KeyError, ValueError):
        return None, None
    lut_side, dsp_rows, dsp_cols = arrays
    pix = ot * ot
    in_side = (ot - 1) * stride + f
    depthwise = layer["k"] == f * f and layer["m"] > 1
    if depthwise:  # channels of one tile: MSD keeps them in the k fields when it does not tile c
        ch = kt if nc == 1 and nk > 1 else ct
        lut = int(ch * share)
        dsp = ch - lut
        comp_lut = ceil_div(lut, lut_side) * f * f * eb * ceil_div(pix, lut_side) if lut else 0
        comp_dsp = ceil_div(dsp, dsp_cols) * f * f * ceil_div(pix, 2 * dsp_rows)
        weights = ceil_div(lut * eb * f * f, 2) + dsp * f * f
        tiles = no * no * (nc if nc > 1 else nk)
        out = ch * pix
        acts = ch * in_side * in_side
    else:
        lut = int(kt * share)
        dsp = kt - lut
        depth = ct * f * f
        comp_lut = depth * eb * ceil_div(pix, lut_side) * ceil_div(lut, lut_side)
        comp_dsp = depth * ceil_div(pix, 2 * dsp_rows) * ceil_div(dsp, dsp_cols)
        weights = ceil_div(lut * eb * depth, 2) + dsp * depth
        tiles = nk * nc * no * no
        out = kt * pix
        acts = ct * in_side * in_side
    load = ceil_div(max(weights, acts), bw)
    if load < 16:
        load *= 1.2  # MSD's scheduler charges short loads 20% more
    write = ceil_div(out, bw)
    cycles = int(tiles * max(comp_lut, comp_dsp, load, write) + load + write)
    return cycles, tiles * (weights + acts + out)


def board_stream(row, layer, arch, bw, read_latency=0):
    """The instructions the board ran for the layer of `row`, timed as MSD's RTL runs them: its
    host code (hardware/host/*/instr_gen_model.py, with the board's hw_arch `arch`) turns the
    schedule into per-tile counts, and the controller (rtl/glb_ctrl.sv) runs tiles in lock step:
    a tile's load (one DataMover command per master: activations on one, the LUT then the DSP
    array's weights on the other), the previous tile's execution and the write-back of the one
    before start together, and the next step waits for all three (2 cycles of handshakes per
    tile). Transfers move `bw` bytes per cycle once they run; `read_latency` cycles are added to
    every tile's load (the round trip of its read command, which nothing hides in lock step).
    Returns (cycles, tiles), or (None, 0) without a schedule or for a depthwise layer (the host
    code writes MSD's depthwise rows as they stand, one output channel of a c-channel reduction
    per tile; what the board made of them is not established here)."""
    try:
        k, nk, c, nc, o, no = (int(row[n]) for n in
                               ("k_tile", "k_tiles", "c_tile", "c_tiles", "o_tile", "o_tiles"))
        f, s, eb, share = int(row["kernel"]), int(row["stride"]), int(row["eb"]), float(row["ratio"])
    except (KeyError, ValueError):
        return None, 0
    if layer["k"] == f * f and layer["m"] > 1:  # depthwise, as msd_model tells them
        return None, 0
    lut = math.ceil(k * share)  # instr_gen_model.py: och_lut, at least one channel each side
    dsp = k - lut
    lut, dsp = max(lut, 1), max(dsp, 1)
    side = (o - 1) * s + f
    act = ceil_div(side * side * c, bw)
    # The LUT array's weights as the host loads them: one 4-bit digit index per weight.
    wgt = math.ceil(0.5 * c * f * f * lut / bw) + ceil_div(c * f * f * dsp, bw)
    ex = max(c * f * f * eb * ceil_div(lut, arch[0]) * ceil_div(o * o, arch[0]),
             c * f * f * ceil_div(dsp, arch[1]) * ceil_div(o * o, 2 * arch[1]))
    wb = ceil_div(lut * o * o, bw) + ceil_div(dsp * o * o, bw)
    ld = max(act, wgt) + read_latency
    n = nk * nc * no * no
    return ld + ex + wb + (n - 1) * max(ld, ex, wb) + 2 * n + 3, n


def stream_latency_to_match(rows, layers, arch, bw, cycles):
    """The per-tile read latency (cycles) at which the board's instruction stream takes `cycles`,
    or None when it takes longer even without one."""
    def total(lat):
        return sum(board_stream(r, l, arch, bw, lat)[0] for r, l in zip(rows, layers))
    if total(0) > cycles:
        return None
    lo, hi = 0, 1
    while total(hi) < cycles:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if total(mid) < cycles else (lo, mid)
    return hi


def ratio(a, b):
    return a / b if b else float("inf")


def within(r, tol):
    return abs(r - 1.0) <= tol + 1e-12


def compare_point(board, network, published_ms, ref_rows, report, cmd):
    mhz = report["config"]["clock_mhz"]
    by_name = {l["name"]: l for l in report["layers"]}
    missing = [r["layer"] for r in ref_rows if r["layer"] not in by_name]
    if missing:
        raise InputProblem(f"{board}/{network}: msqsim's report has no layer {missing[0]} "
                           f"(the network must use MSD's layer names: configs/workloads/"
                           f"msd_{network}.yaml)")
    b = BOARDS[board]
    layers = []
    for r in ref_rows:
        l = by_name[r["layer"]]
        planned, msd_bytes = msd_model(r, l, b["planned"], b["bw"])
        built, _ = msd_model(r, l, b["built"], b["bw"])
        stream, _ = board_stream(r, l, b["host"], b["bw"])
        q = ratio(l["cycles"], r["cycles"])
        tiling = l.get("tiling", {})
        layers.append({
            "layer": r["layer"], "msd_cycles": r["cycles"], "msqsim_cycles": l["cycles"],
            "ratio": q, "msd_bound": r["bound"], "msqsim_bound": l.get("bound", ""),
            "tolerance": TARGET[r["bound"]], "pass": within(q, TARGET[r["bound"]]),
            "tiles": tiling.get("tiles"), "k_tiles": tiling.get("k_tiles"),
            "sp2_rows": l.get("sp2_rows"), "m": l.get("m"), "dram_bytes": l.get("dram_bytes"),
            "msd_model_planned": planned, "msd_model_built": built, "msd_dram_bytes": msd_bytes,
            "board_stream": stream,
            "msd_lut_share": float(r["ratio"]) if r.get("ratio") else None,
            "msqsim_lut_share": (l["rows"].get("lut_core", 0) / l["m"])
            if isinstance(l.get("rows"), dict) and l.get("m") else None,
            "weights_resident": tiling.get("weights_resident"),
        })
    msd_total = sum(r["cycles"] for r in ref_rows)
    total = report["total"]["cycles"]
    ms = report["total"]["latency_ms"]
    res = report.get("resources", {})
    point = {
        "board": board, "network": network, "clock_mhz": mhz,
        "msd_sim_cycles": msd_total, "msd_sim_ms": msd_total / (mhz * 1e3),
        "published_ms": published_ms, "msqsim_cycles": total, "msqsim_ms": ms,
        "ratio_vs_sim": ratio(total, msd_total), "ratio_vs_published": ratio(ms, published_ms),
        "layers": layers,
        "resources": {k: res[k]["used"] for k in ("lut", "dsp", "bram36") if k in res},
        "fits": res.get("fits"),
        "command": " ".join(cmd),
    }
    model = [l["msd_model_built"] for l in layers]
    point["msd_model_built_ms"] = (sum(model) / (mhz * 1e3)) if None not in model else None
    stream = [l["board_stream"] for l in layers]
    if None not in stream:
        point["board_stream_ms"] = sum(stream) / (mhz * 1e3)
        reported = [by_name[r["layer"]] for r in ref_rows]
        point["board_stream_tiles"] = sum(board_stream(r, l, b["host"], b["bw"])[1]
                                          for r, l in zip(ref_rows, reported))
        point["board_stream_latency"] = stream_latency_to_match(
            ref_rows, reported, b["host"], b["bw"], published_ms * mhz * 1e3)
    point["msd_model_reproduces"] = all(l["msd_model_planned"] == l["msd_cycles"] for l in layers)
    point["pass_total"] = within(point["ratio_vs_published"], TARGET["total"])
    point["layers_pass"] = sum(1 for l in layers if l["pass"])
    return point


def mark(ok):
    return "pass" if ok else "FAIL"


def print_point(p, out):
    b = BOARDS[p["board"]]
    out.write(f"\n### {p['board']} ({b['device']}, {p['clock_mhz']:g} MHz): {p['network']}\n\n")
    rebuilt = b["built"] != b["planned"]
    # --as-run: the same schedule on both sides, so the board's own instruction stream is a
    # third account of it (board_stream).
    as_run = p.get("pixel_tile_cut") is not None and p.get("board_stream_ms") is not None
    extra = (" MSD's model, as built |" if rebuilt else "") + (
        " board's instructions | msqsim/those |" if as_run else "")
    out.write("| layer | MSD cycles | msqsim cycles | msqsim/MSD | MSD bound | msqsim bound "
              "| target | | LUT share MSD/msqsim | DRAM KB MSD/msqsim | msqsim tiles |" + extra +
              "\n|---|---:|---:|---:|---|---|---|---|---|---|---|" +
              ("---:|" if rebuilt else "") + ("---:|---:|" if as_run else "") + "\n")

    def share(v):
        return "-" if v is None else f"{v:.2f}"

    def kb(v):
        return "-" if v is None else f"{v / 1024:.0f}"

    for l in p["layers"]:
        cell = f" {l['msd_model_built']} |" if rebuilt else ""
        if as_run:
            cell += f" {l['board_stream']} | {l['msqsim_cycles'] / l['board_stream']:.3f} |"
        tiles = "-" if l["tiles"] is None else (
            f"{l['tiles']}x{l['k_tiles']}" + ("" if l["weights_resident"] else " streamed"))
        out.write(f"| {l['layer']} | {l['msd_cycles']} | {l['msqsim_cycles']} | {l['ratio']:.3f} "
                  f"| {l['msd_bound']} | {l['msqsim_bound']} | ±{l['tolerance'] * 100:.0f}% "
                  f"| {mark(l['pass'])} | {share(l['msd_lut_share'])}/{share(l['msqsim_lut_share'])} "
                  f"| {kb(l['msd_dram_bytes'])}/{kb(l['dram_bytes'])} | {tiles} |{cell}\n")
    cell = (f" {sum(l['msd_model_built'] for l in p['layers'])} |"
            if rebuilt and p["msd_model_built_ms"] is not None else (" |" if rebuilt else ""))
    if as_run:
        stream = sum(l["board_stream"] for l in p["layers"])
        cell += f" {stream} | {p['msqsim_cycles'] / stream:.3f} |"
    out.write(f"| **total** | {p['msd_sim_cycles']} | {p['msqsim_cycles']} "
              f"| {p['ratio_vs_sim']:.3f} | | | | | | | |{cell}\n\n")
    r = p["resources"]
    out.write(f"total: msqsim {p['msqsim_ms']:.2f} ms; MSD's simulator {p['msd_sim_ms']:.2f} ms "
              f"(x{p['ratio_vs_sim']:.3f}); measured on the board {p['published_ms']:.2f} ms "
              f"(x{p['ratio_vs_published']:.3f}, target ±{TARGET['total'] * 100:.0f}%: "
              f"{mark(p['pass_total'])}); layers within target: {p['layers_pass']} of "
              f"{len(p['layers'])}\n")
    out.write("MSD's per-tile cost model with its own schedule reproduces its simulator's cycles: "
              f"{'every layer' if p['msd_model_reproduces'] else 'NOT every layer'}")
    if rebuilt and p["msd_model_built_ms"] is not None:
        out.write(f"; on the array as built (LUT {b['built'][0]}x{b['built'][0]}, planned "
                  f"{b['planned'][0]}x{b['planned'][0]}) it gives {p['msd_model_built_ms']:.2f} ms")
        if p.get("pixel_tile_cut") is not None:  # --as-run: the same schedule on both sides
            out.write(f" (msqsim on the same schedule: x{p['msqsim_ms'] / p['msd_model_built_ms']:.3f})")
    out.write("\n")
    if as_run:
        bs = p["board_stream_ms"]
        lat = p["board_stream_latency"]
        out.write(f"the board's instructions ({p['board_stream_tiles']} tiles; MSD's host code, "
                  f"hw_arch {list(b['host'])}, timed in the lock step of rtl/glb_ctrl.sv at "
                  f"{b['bw']} bytes per cycle per master) take {bs:.2f} ms: the board measured "
                  f"x{p['published_ms'] / bs:.3f} of that, msqsim x{p['msqsim_ms'] / bs:.3f}; ")
        out.write("they take longer than the board even without read latency\n" if lat is None
                  else f"the board's time needs {lat} cycles ({lat / p['clock_mhz'] * 1e3:.0f} ns)"
                  " of read latency on every tile's load\n")
    if p.get("pixel_tile_cut"):
        out.write("as run: pixel tile cut to fit msqsim's 32-bit partial sums in the output "
                  "buffer: " + ", ".join(p["pixel_tile_cut"]) + "\n")
    if r:
        out.write(f"resources (msqsim's estimate / MSD post-implementation): LUT "
                  f"{r.get('lut', 0) / 1e3:.2f}k / {b['klut']}k, DSP {r.get('dsp', 0)} / {b['dsp']}, "
                  f"BRAM36 {r.get('bram36', 0)} / {b['bram36']}"
                  + ("" if p["fits"] is None else
                     "; fits the device" if p["fits"] else
                     "; does not fit the device (run with --allow-overfull)") + "\n")


def print_summary(points, out):
    out.write("\n### Summary\n\n| board | network | MSD simulator ms | measured ms | msqsim ms "
              "| vs simulator | vs measured | total | layers within target |\n"
              "|---|---|---:|---:|---:|---:|---:|---|---:|\n")
    for p in points:
        out.write(f"| {p['board']} | {p['network']} | {p['msd_sim_ms']:.2f} | "
                  f"{p['published_ms']:.2f} | {p['msqsim_ms']:.2f} | {p['ratio_vs_sim']:.3f} | "
                  f"{p['ratio_vs_published']:.3f} | {mark(p['pass_total'])} | "
                  f"{p['layers_pass']}/{len(p['layers'])} |\n")


def main(argv):
    ap = ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Points: " + ", ".join(f"{b}/{n}" for b, n, _ in POINTS) + "; with --extra "
               "(or by --point) also " + ", ".join(f"{b}/{n}" for b, n, _ in EXTRA_POINTS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--point", action="append", default=[], metavar="BOARD/NETWORK",
                    help="run only this point (repeatable); default: all five")
    ap.add_argument("--extra", action="store_true",
                    help="also the five other points MSD measured (not part of the targets' set)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                    help="passed to every msqsim run as --set KEY=VALUE (repeatable, in order)")
    ap.add_argument("--msqsim", help="the msqsim binary (default: build/msqsim, else PATH)")
    ap.add_argument("--reference", default=os.path.join(ROOT, "tools", "msd_reference.csv"),
                    help="MSD's per-layer cycles (default: tools/msd_reference.csv)")
    ap.add_argument("--configs", default=ROOT,
                    help="directory that holds configs/msd/*.yaml (default: this checkout)")
    ap.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    ap.add_argument("--keep-reports", metavar="DIR", help="keep msqsim's JSON report of each point")
    ap.add_argument("--check", action="store_true", help="exit 1 when any target fails")
    ap.add_argument("--as-run", action="store_true",
                    help="run msqsim on the schedule each board ran (MSD's per-layer tiles and "
                         "LUT share as a given mapping, each layer's rows split between the arrays "
                         "as MSD split them) instead of its own search")
    args = ap.parse_args(argv)

    known = {f"{b}/{n}": (b, n, ms) for b, n, ms in POINTS + EXTRA_POINTS}
    for p in args.point:
        if p not in known:
            ap.error(f"--point {p}: unknown point; expected one of {', '.join(known)}")
    for p in args.point:
        if args.point.count(p) > 1 or (args.extra and known[p] in EXTRA_POINTS):
            ap.error(f"--point {p}: the point is given twice (--point, --extra); expected each "
                     "point once")
    for s in args.sets:
        if "=" not in s:
            ap.error(f"--set {s}: expected KEY=VALUE")
        # --as-run sets these itself; a --set after them would replace MSD's schedule unseen.
        key = s.split("=", 1)[0].strip()
        if args.as_run and key in AS_RUN_KEYS:
            ap.error(f"--set {s}: --as-run gives {key} from MSD's schedule; expected --as-run "
                     f"or a --set of {key}, not both")
    chosen = ([known[p] for p in args.point] if args.point else POINTS) + \
        (EXTRA_POINTS if args.extra else [])

    try:
        ref = load_reference(args.reference)
        msqsim = find_msqsim(args.msqsim)
        for b, n, _ in chosen:
            cfg = os.path.join(args.configs, BOARDS[b]["config"])
            if not os.path.isfile(cfg):
                raise InputProblem(f"{cfg}: the {b} config is missing")
            if (b, n) not in ref:
                raise InputProblem(f"{args.reference}: no rows for board {b}, network {n}")
        # Output paths are checked before the runs (minutes), not when the results are written.
        if args.json and not (os.path.exists(args.json) and not os.path.isfile(args.json)
                              and not os.path.isdir(args.json)):
            real = os.path.realpath(args.json)  # a symlink's file is what gets written
            d = os.path.dirname(real)
            if os.path.isdir(real) or not os.path.isdir(d) or not os.access(d, os.W_OK):
                raise InputProblem(f"{args.json}: --json: expected a file path in a writable, "
                                   "existing directory")
        if args.keep_reports:
            try:
                os.makedirs(args.keep_reports, exist_ok=True)
            except OSError as e:
                raise InputProblem(f"{args.keep_reports}: --keep-reports: cannot create the "
                                   f"directory ({e.strerror})")
        points, designs = [], {}
        with tempfile.TemporaryDirectory(prefix="msd_compare.") as tmp:
            for b, n, ms in chosen:
                cfg = os.path.join(args.configs, BOARDS[b]["config"])
                dest = args.keep_reports or tmp
                sets = args.sets
                if args.as_run:
                    mapping, cut, split = write_as_run_mapping(
                        os.path.abspath(os.path.join(dest, f"{b}_{n}_as_run.csv")), b, n,
                        ref[(b, n)], os.path.join(ROOT, "configs", "workloads", f"msd_{n}.yaml"),
                        output_slot_bytes(cfg))
                    sets = as_run_sets(split) + [
                        "accelerator.scheduler.mapping=given",
                        f"accelerator.scheduler.mapping_file={mapping}"] + sets
                report, cmd = run_msqsim(msqsim, cfg, n, sets,
                                         os.path.join(dest, f"{b}_{n}.json"))
                points.append(compare_point(b, n, ms, ref[(b, n)], report, cmd))
                if args.as_run:
                    points[-1]["pixel_tile_cut"] = cut
                points[-1]["design"] = designs.setdefault(b, describe(report))
    except InputProblem as e:
        sys.stderr.write(f"msd_compare: {e}\n")
        return 2

    out = sys.stdout
    out.write("msqsim against MSD (FCCM 2023): per layer against MSD's own simulator, totals "
              "against the latency measured on the board\n")
    if args.as_run:
        out.write("as run: msqsim on the schedule each board ran (MSD's tiles per layer, "
                  "mapping: given; each layer's rows split as MSD split them: its LUT share SP2 "
                  "rows, the rest 8-bit, by workload.sp2_fraction_per_layer and "
                  "fixed8_fraction_per_layer; the config's global rows below do not apply)\n")
    for b, said in designs.items():
        out.write(f"{b}: {said}\n")
    if args.sets:
        out.write("overrides: " + " ".join(f"--set {s}" for s in args.sets) + "\n")
    for p in points:
        print_point(p, out)
    print_summary(points, out)
    ok = all(p["pass_total"] and p["layers_pass"] == len(p["layers"]) for p in points)
    out.write(f"\ntargets: {'all met' if ok else 'not all met'}\n")
    if args.json:
        try:
            write_output(args.json, json.dumps({"points": points, "targets": TARGET,
                                                "sets": args.sets}, indent=1))
        except InputProblem as e:
            sys.stderr.write(f"msd_compare: {e}\n")
            return 2
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
