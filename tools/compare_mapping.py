#!/usr/bin/env python3
"""Per-layer cycles and DRAM traffic of two msqsim JSON reports of the same network, as a Markdown
table: typically the fixed tiling rule against the mapping search (docs/mapping.md).

    msqsim run CONFIG --no-verify --json fixed.json
    msqsim run CONFIG --set accelerator.scheduler.mapping=search --no-verify --json search.json
    tools/compare_mapping.py fixed.json search.json
"""
import json
import sys


def fail(message):
    """Bad input: one line and exit 2, as msqsim's."""
    sys.stderr.write(f"compare_mapping.py: {message}\n")
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {getattr(e, 'strerror', None) or e}")
    if not (isinstance(report, dict) and isinstance(report.get("layers"), list)
            and isinstance(report.get("total"), dict)):
        fail(f"{path}: expected a report of msqsim run --json (a layers list and a total)")
    return report


def main(argv):
    if len(argv) != 3:
        fail("expected two reports: compare_mapping.py BEFORE.json AFTER.json")
    a, b = load(argv[1]), load(argv[2])
    try:
        table(a, b)
    except (KeyError, TypeError, AttributeError) as e:
        # A report of another msqsim, or edited by hand: not a traceback.
        fail(f"{argv[1]}, {argv[2]}: expected reports of msqsim run --json with a mapping per "
             f"layer (missing or wrong: {e})")
    return 0


def table(a, b):
    la, lb = a["layers"], b["layers"]
    if [x["name"] for x in la] != [x["name"] for x in lb]:
        fail("the two reports have different layers")
    print("| layer | cycles before | cycles after | DRAM KB before | DRAM KB after "
          "| weight KB before | weight KB after | weights read (after) | mapping after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for x, y in zip(la, lb):
        mx, my = x["mapping"], y["mapping"]
        desc = (f"{my['order']}, {my['m_tiles']} M x {my['k_tiles']} K x {my['n_tiles']} N tiles"
                f" (tile_m {my['tile_m']}, tile_k {my['tile_k']}, tile_n {my['tile_n']})")
        if my["groups_per_block"] > 1:
            desc += f", {my['groups_per_block']} groups per block"
        print(f"| {x['name']} | {x['cycles']} | {y['cycles']} | {x['dram_bytes'] / 1e3:.0f} "
              f"| {y['dram_bytes'] / 1e3:.0f} | {mx['weight_dram_bytes'] / 1e3:.0f} "
              f"| {my['weight_dram_bytes'] / 1e3:.0f} | {my['weight_reloads']:.1f}x | {desc} |")
    ta, tb = a["total"], b["total"]
    print(f"| **total** | {ta['cycles']} | {tb['cycles']} | {ta['dram_bytes'] / 1e3:.0f} "
          f"| {tb['dram_bytes'] / 1e3:.0f} "
          f"| {sum(x['mapping']['weight_dram_bytes'] for x in la) / 1e3:.0f} "
          f"| {sum(y['mapping']['weight_dram_bytes'] for y in lb) / 1e3:.0f} | | |")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
