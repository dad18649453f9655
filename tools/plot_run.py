#!/usr/bin/python3
"""Plots the JSON report of one `msqsim run --json FILE` (docs/report.md, "Plots").

Writes, next to the report unless --out-dir is given (STEM is the report's name without .json):
  STEM_layers.png/.svg    per layer, each core's cycles split into busy, waiting for DRAM, for
                          a full buffer, for the other core, and the rest of the layer (the
                          transfers before its first and after its last job); below, each
                          core's busy share against its MAC utilization
  STEM_roofline.png/.svg  per layer, achieved GMAC/s against arithmetic intensity (MACs per
                          DRAM byte), under the design's compute roof (peak MACs per cycle of
                          both cores x clock) and the DRAM's bandwidth roof

Needs only Debian's python3-matplotlib.
"""

import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CORES = (("lut_core", "LUT core"), ("dsp_core", "DSP core"))
LAYER_FIELDS = (
    "name", "cycles", "macs", "dram_bytes", "lut_core", "dsp_core",
    "lut_core_busy_share", "dsp_core_busy_share",
    "lut_core_mac_utilization", "dsp_core_mac_utilization", "mac_utilization",
)


def fail(path, what):
    sys.stderr.write(f"plot_run: {path}: {what}\n")
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            r = json.load(f)
    except OSError as e:
        fail(path, f"cannot read it ({e.strerror})")
    except json.JSONDecodeError as e:
        fail(path, f"not JSON (line {e.lineno}: {e.msg})")
    if not isinstance(r, dict) or not isinstance(r.get("layers"), list) or not r["layers"]:
        fail(path, "not a report of msqsim run --json (no 'layers' list)")
    total = r.get("total", {})
    missing = [f"total.{k}" for k in ("peak_macs_per_cycle", "dram_peak_gbps") if k not in total]
    if "clock_mhz" not in r.get("config", {}):
        missing.append("config.clock_mhz")
    for i, layer in enumerate(r["layers"]):
        missing += [f"layers[{i}].{k}" for k in LAYER_FIELDS if k not in layer]
        for c, _ in CORES:
            if "stall_cycles" not in layer.get(c, {}) or "busy_cycles" not in layer.get(c, {}):
                missing.append(f"layers[{i}].{c}.busy_cycles/stall_cycles")
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        fail(path, "missing " + ", ".join(missing[:3]) + more +
             " (a report of msqsim run --json from a version with MAC utilization is needed)")
    return r


def plot_layers(r, stem):
    layers = r["layers"]
    names = [l["name"] for l in layers]
    n = len(layers)
    width = 0.4
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(8, 0.45 * n + 3), 8), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    parts = (("busy", "busy", "tab:green"), ("dram", "wait DRAM", "tab:red"),
             ("buffer", "wait buffer", "tab:orange"), ("other_core", "wait other core", "tab:purple"))
    for ci, (c, label) in enumerate(CORES):
        xs = [i + (ci - 0.5) * width for i in range(n)]
        bottoms = [0] * n
        for key, what, color in parts:
            vals = [l[c]["busy_cycles"] if key == "busy" else l[c]["stall_cycles"][key]
                    for l in layers]
            top.bar(xs, vals, width, bottom=bottoms, color=color,
                    hatch="" if ci == 0 else "//", edgecolor="white", linewidth=0.3,
                    label=f"{label}: {what}")
            bottoms = [b + v for b, v in zip(bottoms, vals)]
        rest = [max(0, l["cycles"] - b) for l, b in zip(layers, bottoms)]
        top.bar(xs, rest, width, bottom=bottoms, color="lightgrey",
                hatch="" if ci == 0 else "//", edgecolor="white", linewidth=0.3,
                label=f"{label}: rest of the layer")
    top.set_ylabel("cycles")
    top.set_title("Cycles per layer by core (left bar LUT core, right bar DSP core, hatched)")
    top.legend(fontsize=7, ncol=2)
    for ci, (c, label) in enumerate(CORES):
        xs = [i + (ci - 0.5) * width for i in range(n)]
        bottom.bar(xs, [100 * l[f"{c}_busy_share"] for l in layers], width, color="lightgrey",
                   hatch="" if ci == 0 else "//", edgecolor="grey", linewidth=0.3,
                   label=f"{label} busy %")
        bottom.bar(xs, [100 * l[f"{c}_mac_utilization"] for l in layers], width * 0.6,
                   color="tab:blue" if ci == 0 else "tab:cyan", label=f"{label} MAC utilization %")
    bottom.plot(range(n), [100 * l["mac_utilization"] for l in layers], "k.-", linewidth=1,
                label="both cores: MAC utilization %")
    bottom.set_ylabel("% of the layer's cycles / of peak")
    bottom.set_ylim(0, 105)
    bottom.set_title("Busy share vs MAC utilization (MACs / (cycles x peak MACs per cycle))")
    bottom.legend(fontsize=7, ncol=3)
    bottom.set_xticks(range(n))
    bottom.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
    fig.tight_layout()
    return save(fig, stem + "_layers")


def plot_roofline(r, stem):
    mhz = r["config"]["clock_mhz"]
    peak = r["total"]["peak_macs_per_cycle"]
    roof = (peak["lut_core"] + peak["dsp_core"]) * mhz * 1e6 / 1e9  # GMAC/s
    bw = r["total"]["dram_peak_gbps"]  # GB/s
    pts = []
    for l in r["layers"]:
        if l["cycles"] <= 0 or l["dram_bytes"] <= 0:
            continue
        ai = l["macs"] / l["dram_bytes"]
        perf = l["macs"] / (l["cycles"] / (mhz * 1e6)) / 1e9
        pts.append((ai, perf, l["name"]))
    fig, ax = plt.subplots(figsize=(8, 6))
    lo = min([p[0] for p in pts] + [roof / bw]) / 4
    hi = max([p[0] for p in pts] + [roof / bw]) * 4
    ridge = roof / bw
    ax.plot([lo, ridge, hi], [bw * lo, roof, roof], "k-", linewidth=1.5,
            label=f"roof: {roof:.0f} GMAC/s compute, {bw:.1f} GB/s DRAM peak")
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=18, color="tab:blue", zorder=3,
               label="layers (achieved)")
    # Name the layers furthest below their roof: where a design change would pay most.
    gap = sorted(pts, key=lambda p: p[1] / min(roof, bw * p[0]))
    for i, (ai, perf, name) in enumerate(gap[:6]):
        # Alternate the side: the worst layers often share a shape and sit on one point.
        ax.annotate(name, (ai, perf), fontsize=7, xytext=(6, -10 + 12 * (i % 2)) if i % 4 < 2
                    else (-6, -10 + 12 * (i % 2)), ha="left" if i % 4 < 2 else "right",
                    textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (MACs per DRAM byte)")
    ax.set_ylabel("GMAC/s")
    ax.set_title(f"Roofline at {mhz:g} MHz (peak {peak['lut_core']} + {peak['dsp_core']} "
                 "MAC/cycle)")
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save(fig, stem + "_roofline")


DPI = 120


def save(fig, stem):
    out = []
    for ext in ("png", "svg"):
        path = f"{stem}.{ext}"
        tmp = f"{stem}.tmp.{ext}"
        fig.savefig(tmp, dpi=DPI)
        os.replace(tmp, path)  # no half-written plot under the final name
        out.append(path)
    plt.close(fig)
    return out


def main():
    global DPI
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", help="JSON report of msqsim run --json")
    ap.add_argument("--out-dir", help="directory for the plots (default: the report's)")
    ap.add_argument("--dpi", type=int, default=DPI, help="PNG resolution (default %(default)s)")
    a = ap.parse_args()
    DPI = a.dpi
    r = load(a.report)
    out_dir = a.out_dir or os.path.dirname(os.path.abspath(a.report))
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.basename(a.report)
    stem = os.path.join(out_dir, base[:-5] if base.endswith(".json") else base)
    for p in plot_layers(r, stem) + plot_roofline(r, stem):
        print(p)


if __name__ == "__main__":
    main()
