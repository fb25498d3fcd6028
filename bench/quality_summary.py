#!/usr/bin/env python3
"""Tables of bench/quality.sh: every EVAL.md metric, mean and 95 % interval over seeds.

usage: bench/quality_summary.py <out_dir>
           one table per part (uomo, sample), datatype and scale: metrics x methods, each cell
           "mean ± half-width" (Student t, n - 1 degrees of freedom, over the seeds), the best mean
           of a row in bold; then the issue's targets, each marked reached or not.
       bench/quality_summary.py --ablation [--scales 500m,2000m] [--keys all|k1,k2] [--reference LABEL]
                                <label>=<out_dir> [<label>=<out_dir> ...]
           ZoomDiff only, one row per label (recipe or sampler variant); default the key metrics at
           500 m. --reference marks († ) every mean outside that variant's 95 % interval, the
           seed-to-seed noise band, and counts each row's metrics inside it.
Reads <out_dir>/<part>/seed*/eval/<datatype>/metrics.json (zoomdiff_eval). Plain python3.
"""
import json
import math
import pathlib
import statistics
import sys

METHODS = [("zoomdiff", "ZoomDiff"), ("mean_profile", "mean profile"),
           ("condition_proportional", "cond.-proportional"), ("nearest_analogue", "nearest analogue")]
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]


def per_sample_mean(entry):
    return entry["mean"] if isinstance(entry, dict) else entry


# (key, label, better: "low" | "high", getter)
ROWS = [
    ("value_jsd", "value JSD", "low", lambda m: per_sample_mean(m["value_jsd"])),
    ("value_jsd_log1p", "value JSD (log1p)", "low", lambda m: per_sample_mean(m["value_jsd_log1p"])),
    ("increment_jsd", "increment JSD", "low", lambda m: per_sample_mean(m["increment_jsd"])),
    ("nmae", "NMAE (sample mean)", "low", lambda m: m["point_errors"]["sample_mean"]["nmae"]),
    ("nrmse", "NRMSE (sample mean)", "low", lambda m: m["point_errors"]["sample_mean"]["nrmse"]),
    ("profile_l1", "weekly-profile L1", "low", lambda m: m["weekly_profile_error"]["l1"]),
    ("acf_cell", "ACF distance, per cell", "low", lambda m: per_sample_mean(m["acf_distance"]["per_cell"])),
    ("acf_city", "ACF distance, city total", "low", lambda m: per_sample_mean(m["acf_distance"]["city_total"])),
    ("acf24", "mean \\|ΔACF\\| at 24 h", "low",
     lambda m: per_sample_mean(m["acf_distance"]["at_lags"][0]["per_cell_abs_diff"])),
    ("daily_rmse", "daily periodicity RMSE", "low", lambda m: per_sample_mean(m["periodicity_share"]["daily_rmse"])),
    ("spearman", "Spearman ρ of weekly totals", "high", lambda m: m["spatial_rank_correlation"].get("rho")),
    ("mmd", "MMD²", "low", lambda m: per_sample_mean(m["mmd"])),
    ("crps", "CRPS", "low", lambda m: m["crps"].get("value")),
    ("c2st", "classifier two-sample accuracy (0.5 = chance)", "low", lambda m: per_sample_mean(m["c2st"])),
    ("tstr", "train-on-synthetic next-day NMAE", "low", lambda m: per_sample_mean(m["tstr"])),
]
ROW = {key: (label, better, getter) for key, label, better, getter in ROWS}
# Issue 18's targets.
UOMO_BEAT = ["value_jsd", "increment_jsd", "mmd", "acf_cell", "daily_rmse", "profile_l1"]
SAMPLE_TARGETS = [("profile_l1", 10.0, "<"), ("acf24", 0.1, "<"), ("value_jsd", 0.02, "<=")]
ABLATION_KEYS = ["value_jsd", "increment_jsd", "profile_l1", "acf24", "daily_rmse", "mmd", "spearman", "crps"]


def value(methods, method, getter):
    try:
        v = getter(methods[method])
    except (KeyError, TypeError, IndexError):
        return None
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def interval(values):
    """(mean, 95 % half-width or None, n) of the defined values."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None, 0
    mean = statistics.fmean(vals)
    if len(vals) < 2:
        return mean, None, len(vals)
    t = T975[len(vals) - 2] if len(vals) - 2 < len(T975) else 1.96
    return mean, t * statistics.stdev(vals) / math.sqrt(len(vals)), len(vals)


def fmt(v):
    if v is None:
        return "–"
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def fmt_interval(mean, half):
    if mean is None:
        return "–"
    return fmt(mean) if half is None else f"{fmt(mean)} ± {fmt(half)}"


def collect(out):
    """{part: {datatype: [metrics.json of each seed]}}"""
    found = {}
    for part_dir in sorted(p for p in out.iterdir() if p.is_dir()):
        for seed_dir in sorted(part_dir.glob("seed*")):
            for metrics in sorted(seed_dir.glob("eval/*/metrics.json")):
                found.setdefault(part_dir.name, {}).setdefault(metrics.parent.name, []).append(
                    json.loads(metrics.read_text()))
    return found


def stats(runs, scale, method, key):
    getter = ROW[key][2]
    return interval([value(r["scales"][scale]["methods"], method, getter) for r in runs if scale in r["scales"]])


def tables(out):
    found = collect(out)
    if not found:
        sys.exit(f"quality_summary.py: no <part>/seed*/eval/*/metrics.json under {out}")
    for part, by_type in found.items():
        for dt, runs in by_type.items():
            for scale in ("500m", "2000m"):
                if scale not in runs[0]["scales"]:
                    continue
                cells = runs[0]["scales"][scale]["cells"]["evaluated"]
                print(f"### {part}, {dt}, {scale} ({len(runs)} seeds, {cells} cells; mean ± 95 % interval)\n")
                print("| metric | " + " | ".join(name for _, name in METHODS) + " |")
                print("| --- |" + " ---: |" * len(METHODS))
                for key, label, better, _ in ROWS:
                    row = [stats(runs, scale, method, key) for method, _ in METHODS]
                    means = [m for m, _, _ in row if m is not None]
                    if not means:
                        continue
                    best = min(means) if better == "low" else max(means)
                    cells_out = []
                    for mean, half, _ in row:
                        text = fmt_interval(mean, half)
                        cells_out.append(f"**{text}**" if mean is not None and mean == best and len(means) > 1 else text)
                    print(f"| {label} | " + " | ".join(cells_out) + " |")
                print()
    targets(found)


def plain(label):
    """A table label outside a table: its escaped pipes as plain ones."""
    return label.replace("\\|", "|")


def targets(found):
    print("### Targets (issue 18; means over the seeds)\n")
    for dt, runs in found.get("sample", {}).items():
        if dt != "traffic":
            continue
        for key, limit, op in SAMPLE_TARGETS:
            mean, half, n = stats(runs, "500m", "zoomdiff", key)
            ok = mean is not None and (mean < limit if op == "<" else mean <= limit)
            print(f"- sample city, in-sample, 500 m traffic, {plain(ROW[key][0])} {op} {limit}: "
                  f"{fmt_interval(mean, half)} ({n} seeds) — {'reached' if ok else 'NOT reached'}")
    for dt, runs in found.get("uomo", {}).items():
        for key in UOMO_BEAT:
            label, better, _ = ROW[key]
            zd, zd_half, n = stats(runs, "500m", "zoomdiff", key)
            worse = []
            for method, name in METHODS[1:]:
                b, _, _ = stats(runs, "500m", method, key)
                if zd is None or (b is not None and (zd >= b if better == "low" else zd <= b)):
                    worse.append(f"{name} {fmt(b)}")
            verdict = "beats every baseline" if not worse else "does NOT beat " + ", ".join(worse)
            print(f"- UoMo held-out places, 500 m {dt}, {plain(label)}: ZoomDiff {fmt_interval(zd, zd_half)} ({n} seeds) — {verdict}")
    print()


def ablation(pairs, scales=("500m",), keys=None, reference=None):
    """One table per part, datatype and scale: a row per variant, ZoomDiff's mean ± interval per
    metric. With `reference` (a label), a cell whose mean lies outside the reference variant's
    95 % interval (its seed-to-seed noise band) is marked †, and each row counts its metrics
    inside the band."""
    keys = keys or ABLATION_KEYS
    variants = []
    for pair in pairs:
        label, _, path = pair.rpartition("=")  # labels may hold "=" (N=5), paths rarely do
        variants.append((label, collect(pathlib.Path(path))))
    combos = sorted({(part, dt) for _, found in variants for part, by in found.items() for dt in by})
    for part, dt in combos:
        for scale in scales:
            band = {}
            if reference is not None:
                ref_runs = dict(variants).get(reference, {}).get(part, {}).get(dt)
                if ref_runs:
                    band = {k: stats(ref_runs, scale, "zoomdiff", k)[:2] for k in keys}
            title = f"### Ablation: {part}, {dt}, {scale.replace('m', ' m')}, ZoomDiff (mean ± 95 % interval over seeds)"
            if band:
                title += f"; † outside the noise band of '{reference}'"
            print(title + "\n")
            extra = " in band |" if band else ""
            print("| variant | seeds | " + " | ".join(ROW[k][0] for k in keys) + " |" + extra)
            print("| --- | ---: |" + " ---: |" * len(keys) + (" ---: |" if band else ""))
            for label, found in variants:
                runs = found.get(part, {}).get(dt)
                if not runs:
                    continue
                cells = []
                inside = 0
                for k in keys:
                    mean, half = stats(runs, scale, "zoomdiff", k)[:2]
                    cell = fmt_interval(mean, half)
                    ref_mean, ref_half = band.get(k, (None, None))
                    if band and mean is not None and ref_mean is not None:
                        if abs(mean - ref_mean) <= (ref_half or 0.0):
                            inside += 1
                        else:
                            cell += " †"
                    cells.append(cell)
                row = f"| {label} | {len(runs)} | " + " | ".join(cells) + " |"
                if band:
                    row += f" {inside}/{len(keys)} |"
                print(row)
            print()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--ablation":
        args = sys.argv[2:]
        options = {"--scales": "500m", "--keys": "", "--reference": ""}
        while args and args[0] in options:
            options[args[0]] = args[1]
            args = args[2:]
        keys = [k for k, *_ in ROWS] if options["--keys"] == "all" else \
            (options["--keys"].split(",") if options["--keys"] else None)
        ablation(args, tuple(options["--scales"].split(",")), keys, options["--reference"] or None)
    elif len(sys.argv) == 2:
        tables(pathlib.Path(sys.argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
