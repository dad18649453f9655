#!/usr/bin/python3
"""Plots a results CSV of `msqsim sweep` (docs/sweeps.md).

Writes, next to the CSV unless --out-dir is given (STEM is the CSV's name without .csv):
  STEM_fraction.png/.svg  frames/s against the SP2 fraction, one line per device and per
                          combination of the other axes (when there are at most 10 lines; else
                          one line per workload group and device: the best over the design axes
                          at each fraction)
  STEM_pareto.png/.svg    frames/s against LUT % and DSP % of the device, every point that ran
                          and fits, with the Pareto front (max frames/s, min LUT, min DSP) marked;
                          one row of plots per workload group

Workload axes (every workload.* key but the SP2 and fixed-8 fractions: the network, batch, bit
widths, ...) change what is computed, not the design: points are compared, and fronts drawn, only
within one combination of them (a "workload group"), as msqsim sweep's summary does. Prints each
group's Pareto front (the ids) on stdout, then the files written.

Needs only Debian's python3-matplotlib and python3-numpy.
"""

import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FRACTION = "workload.sp2_fraction"
DESIGN_WORKLOAD_KEYS = (FRACTION, "workload.fixed8_fraction")
MAX_LINES = 10


def is_workload_axis(key):
    """As msqsim's summary (sim/sweep.h is_workload_axis)."""
    return key.startswith("workload.") and key not in DESIGN_WORKLOAD_KEYS


def group_of(row, axes):
    """The row's workload group as "key=value ..." ("" when no axis is a workload axis)."""
    return " ".join(f"{a}={row[a]}" for a in axes if is_workload_axis(a))


def by_group(rows, axes):
    groups = {}
    for r in rows:
        groups.setdefault(group_of(r, axes), []).append(r)
    return groups


def read_rows(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        rows = list(reader)
    if "id" not in header or "frames_per_s" not in header or "device_name" not in header:
        sys.exit(f"plot_sweep: {path}: not a results CSV of msqsim sweep (no id/device_name/frames_per_s)")
    # Axis columns sit between status and device (the CSV format puts them there).
    axes = header[header.index("status") + 1 : header.index("device_name")]
    return header, axes, rows


def short(key):
    """accelerator.lut_core.rows -> lut_core.rows: enough to tell the axes apart in a legend."""
    return ".".join(key.split(".")[-2:])


def ran(rows):
    return [r for r in rows if r["status"] == "ok" and r["fits"] == "true"]


def pareto(rows):
    pts = [(float(r["frames_per_s"]), int(r["lut"]), int(r["dsp"])) for r in rows]
    front = []
    for i, (f, l, d) in enumerate(pts):
        dominated = any(
            f2 >= f and l2 <= l and d2 <= d and (f2 > f or l2 < l or d2 < d) for f2, l2, d2 in pts
        )
        if not dominated:
            front.append(rows[i])
    return front


def save(fig, out_dir, name):
    paths = []
    for ext in ("png", "svg"):
        p = os.path.join(out_dir, f"{name}.{ext}")
        # No date or random ids in the SVG: plots of the same CSV stay byte-identical.
        fig.savefig(p, dpi=110, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        paths.append(p)
    plt.close(fig)
    return paths


def plot_fraction(rows, axes, title, out_dir, stem):
    others = [a for a in axes if a not in (FRACTION, "device")]
    workload = [a for a in others if is_workload_axis(a)]
    groups = {}
    for r in rows:
        key = (r["device_name"],) + tuple(f"{short(a)}={r[a]}" for a in others)
        groups.setdefault(key, []).append(r)
    envelope = len(groups) > MAX_LINES
    if envelope:
        # The best over the design axes only: a best over networks would be the smaller network.
        groups = {}
        for r in rows:
            key = (r["device_name"],) + tuple(f"{short(a)}={r[a]}" for a in workload)
            groups.setdefault(key + ("best over the design axes",), []).append(r)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, rs in sorted(groups.items()):
        best = {}
        for r in rs:
            x = float(r[FRACTION])
            best[x] = max(best.get(x, 0.0), float(r["frames_per_s"]))
        xs = sorted(best)
        ax.plot(xs, [best[x] for x in xs], marker="o", markersize=3, label=", ".join(key))
    ax.set_xlabel("SP2 fraction of each layer's rows")
    ax.set_ylabel("frames/s")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return save(fig, out_dir, f"{stem}_fraction")


def plot_pareto(rows, axes, title, out_dir, stem):
    groups = by_group(rows, axes)
    names = sorted(groups, key=lambda g: min(int(r["id"]) for r in groups[g]))
    fig, axs = plt.subplots(len(names), 2, figsize=(10, 4.2 * len(names)), sharey="row", squeeze=False)
    devices = sorted({r["device_name"] for r in rows})
    for row_axs, g in zip(axs, names):
        rs_g = groups[g]
        front = pareto(rs_g)
        ids = ", ".join(r["id"] for r in sorted(front, key=lambda r: int(r["id"])))
        print(f"Pareto front{' for ' + g if g else ''}: {len(front)} of {len(rs_g)} points (ids {ids})")
        for ax, res in zip(row_axs, ("lut", "dsp")):
            for dev in devices:
                rs = [r for r in rs_g if r["device_name"] == dev]
                if rs:
                    ax.scatter([float(r[f"{res}_percent"]) for r in rs], [float(r["frames_per_s"]) for r in rs],
                               s=12, alpha=0.6, label=dev)
            fr = sorted(front, key=lambda r: float(r[f"{res}_percent"]))
            ax.scatter([float(r[f"{res}_percent"]) for r in fr], [float(r["frames_per_s"]) for r in fr],
                       s=60, facecolors="none", edgecolors="black", label="Pareto front")
            ax.set_xlabel(f"{res.upper()} used (% of the device)")
            ax.grid(True, alpha=0.3)
            if g:
                ax.set_title(g, fontsize=9)
        row_axs[0].set_ylabel("frames/s")
        row_axs[0].legend(fontsize=7)
    fig.suptitle(f"{title}: Pareto front (max frames/s, min LUT, min DSP)")
    fig.subplots_adjust(hspace=0.35)
    return save(fig, out_dir, f"{stem}_pareto")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="results CSV of msqsim sweep")
    ap.add_argument("--out-dir", help="where to write the plots (default: next to the CSV)")
    ap.add_argument("--title", help="title of the plots (default: the CSV's stem)")
    args = ap.parse_args()
    plt.rcParams["svg.hashsalt"] = "msqsim"

    header, axes, rows = read_rows(args.csv)
    stem = os.path.basename(args.csv)
    stem = stem[:-4] if stem.endswith(".csv") else stem
    out_dir = args.out_dir or os.path.dirname(os.path.abspath(args.csv))
    os.makedirs(out_dir, exist_ok=True)
    title = args.title or stem
    ok = ran(rows)
    if not ok:
        sys.exit(f"plot_sweep: {args.csv}: no point ran and fits its device; nothing to plot")
    written = []
    if FRACTION in axes:
        written += plot_fraction(ok, axes, title, out_dir, stem)
    else:
        print(f"plot_sweep: {args.csv}: no {FRACTION} axis, no fraction plot", file=sys.stderr)
    written += plot_pareto(ok, axes, title, out_dir, stem)
    for p in written:
        print(p)


if __name__ == "__main__":
    main()
