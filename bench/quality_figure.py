#!/usr/bin/python3
"""The figure of bench/quality.sh: city-mean weekly profiles (each divided by its own mean, as
EVAL.md's weekly-profile error compares them) of the real data and of ZoomDiff under each recipe
variant, one panel per part and datatype found, every seed's profile drawn thin and their mean thick.

usage: /usr/bin/python3 bench/quality_figure.py <out.png> <label>=<quality out_dir> [...]
Reads <dir>/<part>/seed*/results/<City>_<datatype>.h5 (zoomdiff_infer, its 500 m samples through
scripts/results_h5.py, either layout) and the real 500 m data beside them (<City>/data/<City>_<datatype>_data.h5,
/data_2000m: R x C x 4 x 4 x 168), inside the generated file's mask. Needs Debian's python3-h5py
and python3-matplotlib.
"""
import pathlib
import sys

import h5py
import matplotlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))
import results_h5  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def normalised(profile):
    return profile / profile.mean()


def real_profile(results_file, data_root):
    with h5py.File(results_file, "r") as f:
        city = f.attrs["city"]
        city = city.decode() if isinstance(city, bytes) else str(city)
        datatype = f.attrs["datatype"]
        datatype = datatype.decode() if isinstance(datatype, bytes) else str(datatype)
        c500 = results_h5.cells(f, "500m")
        rows, cols = c500["row"], c500["col"]
    with h5py.File(data_root / city / "data" / f"{city}_{datatype}_data.h5", "r") as f:
        tiles = f["data_2000m"][...]  # R, C, 4, 4, 168; rows from the south
    r, c = tiles.shape[:2]
    grid = tiles.transpose(0, 2, 1, 3, 4).reshape(4 * r, 4 * c, tiles.shape[-1])
    return normalised(grid[rows, cols].mean(axis=0))


def generated_profile(results_file):
    with h5py.File(results_file, "r") as f:
        return normalised(results_h5.cells(f, "500m")["samples"].mean(axis=(0, 1)))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    variants = [(label, pathlib.Path(path)) for label, _, path in (a.partition("=") for a in sys.argv[2:])]
    panels = sorted({(part.name, res.name) for _, d in variants for part in d.iterdir() if part.is_dir()
                     for res in part.glob("seed*/results/*.h5")})
    if not panels:
        sys.exit("quality_figure.py: no <part>/seed*/results/*.h5 under the given folders")
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.2 * len(panels)), squeeze=False)
    hours = np.arange(168)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (part, name) in zip(axes[:, 0], panels):
        reals = []
        for i, (label, d) in enumerate(variants):
            files = sorted(d.glob(f"{part}/seed*/results/{name}"))
            if not files:
                continue
            if not reals:  # the real data of each seed (UoMo: each seed holds out other places)
                for f in files:
                    roots = [f.parents[1] / "data", d / part / "data"] + [v / part / "data" for _, v in variants]
                    reals.append(real_profile(f, next(p for p in roots if p.exists())))
            profiles = [generated_profile(f) for f in files]
            colour = colours[(i + 1) % len(colours)]
            for p in profiles:
                ax.plot(hours, p, color=colour, linewidth=0.5, alpha=0.4)
            ax.plot(hours, np.mean(profiles, axis=0), color=colour, linewidth=1.6,
                    label=f"{label} ({len(files)} seeds)")
        ax.plot(hours, np.mean(reals, axis=0), color="black", linewidth=2.0,
                label="real" if len(reals) == 1 or np.allclose(reals[0], reals[-1]) else "real (mean over the seeds' held-out places)")
        ax.set_title(f"{part}: {name.removesuffix('.h5')}, 500 m, city-mean weekly profile / its mean")
        ax.set_xlabel("hour of the week (0 = Monday 00:00)")
        ax.set_ylabel("profile / mean (1)")
        ax.set_xticks(range(0, 169, 24))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"quality_figure.py: wrote {out}")


if __name__ == "__main__":
    main()
