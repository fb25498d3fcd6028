#!/usr/bin/python3
"""Publication figures of a zoomdiff_eval folder, from the numbers it saved beside its quicklooks
(<eval>/plots/<scale>_{value_hist,weekly_profile,acf,weekly_mean_map}.csv) and its metrics.json.

usage: /usr/bin/python3 scripts/plot_eval.py <eval folder> [--out DIR] [--formats pdf,svg]
Writes DIR/<scale>_<figure>.{pdf,svg} (default DIR = <eval folder>/figures): the weekly profile
(day labels on the week axis, units on the value axis, every method), the value histogram, the
ACF, and the weekly-mean maps (real | generated on one colour scale, a colour bar with ticks, axes
in km of the city's UTM grid). Needs Debian's python3-matplotlib and python3-numpy;
scripts/run_sample.sh calls it when they are installed.
"""
import argparse
import csv
import json
import math
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter, MultipleLocator  # noqa: E402

DAYS = ["Day 1", "Day 2", "Day 3", "Day 4", "Day 5", "Day 6", "Day 7"]
STYLE = {"real": ("black", 2.0, "-"), "zoomdiff": ("#d62728", 2.0, "-"),
         "mean_profile": ("#7f7f7f", 1.0, "--"), "condition_proportional": ("#1f77b4", 1.0, "--"),
         "nearest_analogue": ("#2ca02c", 1.0, ":")}
LABEL = {"real": "real", "zoomdiff": "ZoomDiff", "mean_profile": "mean profile",
         "condition_proportional": "condition-proportional", "nearest_analogue": "nearest analogue"}


def read_csv(path):
    """(about, {column: np.array}) of a plot CSV; empty fields are NaN."""
    with open(path) as f:
        about = f.readline().lstrip("# ").strip()
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    columns = {name: np.array([float(r[i]) if r[i] != "" else math.nan for r in body])
               for i, name in enumerate(header)}
    return about, columns


def short_units(metrics):
    units = str(metrics.get("units") or "")
    return units if 0 < len(units) <= 24 else "value"


def save(fig, out, stem, formats):
    paths = []
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        fig.savefig(path, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def weekly_profile(cols, title, units, out, stem, formats):
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for name, values in cols.items():
        if name == "hour":
            continue
        colour, width, style = STYLE.get(name, ("#9467bd", 1.0, "-."))
        ax.plot(cols["hour"], values, color=colour, lw=width, ls=style, label=LABEL.get(name, name))
    ax.set_xlim(0, 168)
    ax.xaxis.set_major_locator(MultipleLocator(24))
    ax.xaxis.set_minor_locator(MultipleLocator(6))
    ax.set_xticks([12 + 24 * d for d in range(7)], DAYS, minor=False)
    for d in range(1, 7):
        ax.axvline(24 * d, color="0.85", lw=0.6, zorder=0)
    ax.yaxis.set_major_formatter(EngFormatter(sep=""))
    ax.set_ylabel(f"city mean per cell ({units} / h)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return save(fig, out, stem, formats)


def value_hist(cols, title, units, out, stem, formats):
    fig, ax = plt.subplots(figsize=(5, 3.2))
    width = np.diff(cols["log1p_value"]).mean() if len(cols["log1p_value"]) > 1 else 1.0
    ax.bar(cols["log1p_value"], cols["real"], width=width, color="0.75", label="real")
    ax.step(cols["log1p_value"], cols["zoomdiff"], where="mid", color=STYLE["zoomdiff"][0], lw=1.8,
            label="ZoomDiff (all samples)")
    ax.set_xlabel(f"log(1 + value), value in {units} / h")
    ax.set_ylabel("share of cell-hours")
    ax.set_title(title)
    ax.legend(frameon=False)
    return save(fig, out, stem, formats)


def acf(cols, title, out, stem, formats):
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(cols["lag"], cols["real"], color="black", lw=2, label="real")
    ax.plot(cols["lag"], cols["zoomdiff"], color=STYLE["zoomdiff"][0], lw=1.8, label="ZoomDiff (mean of samples)")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.xaxis.set_major_locator(MultipleLocator(24))
    ax.set_xlabel("lag (hours)")
    ax.set_ylabel("autocorrelation of the city series")
    ax.set_title(title)
    ax.legend(frameon=False)
    return save(fig, out, stem, formats)


def maps(cols, title, units, out, stem, formats):
    rows = int(np.nanmax(cols["row"])) + 1
    ncols = int(np.nanmax(cols["col"])) + 1
    grids = {}
    for name in ("real", "zoomdiff"):
        g = np.full((rows, ncols), np.nan)
        g[cols["row"].astype(int), cols["col"].astype(int)] = cols[name]
        grids[name] = g
    top = np.nanmax([np.nanmax(g) for g in grids.values()])
    has_xy = np.isfinite(cols["x_m"]).all()
    extent = None
    if has_xy:
        x = cols["x_m"].reshape(rows, ncols)[0] / 1000.0
        y = cols["y_m"].reshape(rows, ncols)[:, 0] / 1000.0
        dx = (x[1] - x[0]) if ncols > 1 else 1.0
        dy = (y[1] - y[0]) if rows > 1 else 1.0
        extent = (x[0] - dx / 2, x[-1] + dx / 2, y[0] - dy / 2, y[-1] + dy / 2)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), constrained_layout=True)
    for ax, name in zip(axes, ("real", "zoomdiff")):
        image = ax.imshow(grids[name], origin="lower", extent=extent, vmin=0, vmax=top, cmap="viridis",
                          interpolation="nearest")
        ax.set_title("real" if name == "real" else "ZoomDiff (sample mean)")
        ax.set_xlabel("easting (km, UTM)" if has_xy else "column")
        ax.set_ylabel("northing (km, UTM)" if has_xy else "row (from the south)")
        ax.set_aspect("equal")
    bar = fig.colorbar(image, ax=axes, shrink=0.85, format=EngFormatter(sep=""))
    bar.set_label(f"weekly mean ({units} / h per cell)")
    fig.suptitle(title)
    return save(fig, out, stem, formats)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval_dir", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path)
    parser.add_argument("--formats", default="pdf,svg")
    args = parser.parse_args()
    plots = args.eval_dir / "plots"
    metrics_path = args.eval_dir / "metrics.json"
    if not plots.is_dir() or not metrics_path.is_file():
        sys.exit(f"plot_eval.py: {args.eval_dir} is not a zoomdiff_eval folder (plots/ and metrics.json): "
                 "pass the --out folder of zoomdiff_eval")
    metrics = json.loads(metrics_path.read_text())
    out = args.out or args.eval_dir / "figures"
    out.mkdir(parents=True, exist_ok=True)
    formats = [f for f in args.formats.split(",") if f]
    units = short_units(metrics)
    name = f"{metrics.get('city', '')} {metrics.get('datatype', '')}".strip()
    written = []
    csvs = sorted(plots.glob("*.csv"))
    if not csvs:
        sys.exit(f"plot_eval.py: {plots} holds no CSV: rerun zoomdiff_eval (it writes them since December 2026)")
    for path in csvs:
        scale, _, figure = path.stem.partition("_")
        _, cols = read_csv(path)
        title = f"{name}, {scale}"
        stem = path.stem
        if figure == "weekly_profile":
            written += weekly_profile(cols, title, units, out, stem, formats)
        elif figure == "value_hist":
            written += value_hist(cols, title, units, out, stem, formats)
        elif figure == "acf":
            written += acf(cols, title, out, stem, formats)
        elif figure == "weekly_mean_map":
            written += maps(cols, title, units, out, stem, formats)
    print(f"plot_eval.py: wrote {len(written)} figure file(s) in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
