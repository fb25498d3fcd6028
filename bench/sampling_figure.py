#!/usr/bin/python3
"""The figure of respaced sampling (issue 22): key zoomdiff_eval metrics against the steps kept per
segment, one line per sampler, each point the mean over seeds with its 95 % interval, and full
sampling's mean and interval (the seed-to-seed noise band) as a shaded band.

usage: /usr/bin/python3 bench/sampling_figure.py <out.png> <part> <datatype> <scale> <full_dir>
           <sampler>:<N>=<quality out_dir> [...]
e.g.   bench/sampling_figure.py docs/sampling.png sample traffic 500m out/q/std_coarse \\
           ddpm:5=out/q/samp_ddpm5 ddpm:10=out/q/samp_ddpm10 ddim:5=out/q/samp_ddim5 ddim:20=out/q/samp_ddim_full
The folders are bench/quality.sh outputs on the same models and seeds (QUALITY_RUNS). Needs Debian's
python3-matplotlib.
"""
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from quality_summary import ROW, collect, stats  # noqa: E402

KEYS = ["profile_l1", "acf24", "increment_jsd", "mmd"]


def main():
    if len(sys.argv) < 7:
        sys.exit(__doc__)
    out, part, datatype, scale, full_dir = sys.argv[1:6]
    full_runs = collect(pathlib.Path(full_dir))[part][datatype]
    lines = {}
    for arg in sys.argv[6:]:
        spec, _, path = arg.rpartition("=")
        sampler, _, n = spec.partition(":")
        runs = collect(pathlib.Path(path)).get(part, {}).get(datatype)
        if runs:
            lines.setdefault(sampler, []).append((int(n), runs))
    fig, axes = plt.subplots(1, len(KEYS), figsize=(3.4 * len(KEYS), 3.1), constrained_layout=True)
    for ax, key in zip(axes, KEYS):
        mean, half, n_full = stats(full_runs, scale, "zoomdiff", key)
        ax.axhspan(mean - (half or 0), mean + (half or 0), color="0.85", label=f"full schedule ({n_full} seeds)")
        ax.axhline(mean, color="0.4", lw=1)
        for (sampler, points), marker in zip(sorted(lines.items()), "os^"):
            points.sort(key=lambda p: p[0])
            xs, ys, es = [], [], []
            for n, runs in points:
                m, h, _ = stats(runs, scale, "zoomdiff", key)
                xs.append(n)
                ys.append(m)
                es.append(h or 0)
            ax.errorbar(xs, ys, yerr=es, marker=marker, capsize=3, label=sampler)
        ax.set_xscale("log", base=2)
        ticks = sorted({n for points in lines.values() for n, _ in points})
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("steps kept per segment")
        ax.set_title(ROW[key][0])
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{part}, {datatype}, {scale.replace('m', ' m')}: respaced sampling against the full schedule "
                 "(mean and 95 % interval over seeds)", fontsize=10)
    fig.savefig(out, dpi=130)


if __name__ == "__main__":
    main()
