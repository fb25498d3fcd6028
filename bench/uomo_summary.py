#!/usr/bin/env python3
"""The README's compact real-data table from bench/uomo_table.sh's metrics.json files.

usage: bench/uomo_summary.py <out_dir> [scale ...]   (default scales: 500m 2000m)
Reads <out_dir>/eval/{traffic,user}/metrics.json (zoomdiff_eval) and prints one Markdown table per
scale: rows = metrics, columns = method x datatype, the best value of each row and datatype in bold.
Plain python3 (json only).
"""
import json
import math
import pathlib
import sys

METHODS = [("zoomdiff", "ZD"), ("mean_profile", "MP"), ("condition_proportional", "CP"), ("nearest_analogue", "NA")]
LEGEND = ("ZD = ZoomDiff (10 samples; per-sample metrics averaged), MP = mean profile, "
          "CP = condition-proportional (POI-count share), NA = nearest analogue; – = undefined "
          "(a constant map has no rank) or not applicable (CRPS needs samples)")


def per_sample_mean(entry):
    return entry["mean"] if isinstance(entry, dict) else entry


# (label, better: "low" | "high", getter)
ROWS = [
    ("value JSD", "low", lambda m: per_sample_mean(m["value_jsd"])),
    ("value JSD (log1p)", "low", lambda m: per_sample_mean(m["value_jsd_log1p"])),
    ("increment JSD", "low", lambda m: per_sample_mean(m["increment_jsd"])),
    ("NMAE (sample mean)", "low", lambda m: m["point_errors"]["sample_mean"]["nmae"]),
    ("NRMSE (sample mean)", "low", lambda m: m["point_errors"]["sample_mean"]["nrmse"]),
    ("weekly-profile L1", "low", lambda m: m["weekly_profile_error"]["l1"]),
    ("ACF distance, per cell", "low", lambda m: per_sample_mean(m["acf_distance"]["per_cell"])),
    ("ACF distance, city total", "low", lambda m: per_sample_mean(m["acf_distance"]["city_total"])),
    ("daily periodicity share RMSE", "low", lambda m: per_sample_mean(m["periodicity_share"]["daily_rmse"])),
    ("Spearman ρ of weekly totals", "high", lambda m: m["spatial_rank_correlation"].get("rho")),
    ("MMD²", "low", lambda m: per_sample_mean(m["mmd"])),
    ("CRPS (10 samples)", "low", lambda m: m["crps"].get("value")),
    ("cross-scale consistency to 2000 m", "low",
     lambda m: (m.get("cross_scale_consistency") or {}).get("to_2000m", {}).get("value")),
]


def value(methods, method, getter):
    try:
        v = getter(methods[method])
    except (KeyError, TypeError):
        return None
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def fmt(v):
    if v is None:
        return "–"
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def main():
    out = pathlib.Path(sys.argv[1])
    scales = sys.argv[2:] or ["500m", "2000m"]
    data = {dt: json.loads((out / "eval" / dt / "metrics.json").read_text()) for dt in ("traffic", "user")}
    print(LEGEND + "\n")
    for scale in scales:
        cells = data["traffic"]["scales"][scale]["cells"]["evaluated"]
        print(f"**{scale}** ({cells} cells per datatype)\n")
        print("| metric | " + " | ".join(f"{name} {dt}" for dt in data for _, name in METHODS) + " |")
        print("| --- |" + " ---: |" * (len(METHODS) * len(data)))
        for label, better, getter in ROWS:
            cells_out = []
            for dt, metrics in data.items():
                methods = metrics["scales"][scale]["methods"]
                values = [value(methods, key, getter) for key, _ in METHODS]
                present = [v for v in values if v is not None]
                best = (min(present) if better == "low" else max(present)) if present else None
                cells_out += [f"**{fmt(v)}**" if v is not None and v == best and len(present) > 1 else fmt(v)
                              for v in values]
            if all(c == "–" for c in cells_out):
                continue
            print(f"| {label} | " + " | ".join(cells_out) + " |")
        print()


if __name__ == "__main__":
    main()
