#!/usr/bin/python3
"""Enlarge a city's zoomdiff files by repeating its 2000 m tiles, for training benchmarks.

The bundled sample city has 8 tiles (6 for training): too few for one batch of 16. This writes
<out_root>/<name>/{data,cond}/ files whose 2000 m arrays repeat the city's tiles a x b times
(every key zoomdiff_train reads, plus a matching /grid), so `zoomdiff_train --dataset <name>`
measures real batches of real tile values. Needs python3-h5py and numpy (Debian packages).

usage: make_bench_city.py <data_root> <City> <out_root> <name> [--repeat A B]
"""
import argparse
import pathlib
import shutil

import h5py
import numpy as np

TILE_KEYS_DATA = ["data_2000m", "loc_2000m"]
DROP_GROUPS = ["100m", "500m"]  # per-cell arrays tied to the original grid; zoomdiff_train does not read them


def extend_edges(edges, count):
    step = edges[1] - edges[0]
    return edges[0] + step * np.arange(count + 1, dtype=edges.dtype)


def enlarge(src, dst, a, b):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        for g in DROP_GROUPS:
            if g in f:
                del f[g]
        keys = []
        f.visititems(lambda name, obj: keys.append(name) if isinstance(obj, h5py.Dataset) else None)
        rows, cols = f["loc_2000m"].shape[:2]
        for key in keys:
            if key.startswith("grid/"):
                continue
            arr = f[key][...]
            if arr.ndim >= 2 and arr.shape[:2] == (rows, cols):
                attrs = dict(f[key].attrs)
                tiled = np.tile(arr, (a, b) + (1,) * (arr.ndim - 2))
                del f[key]
                ds = f.create_dataset(key, data=tiled, compression="gzip", shuffle=True)
                for k, v in attrs.items():
                    ds.attrs[k] = v
        cells = 20  # 100 m cells per 2000 m tile side
        for key, count in (("x_edges_m", cols * b * cells), ("lon_edges_deg", cols * b * cells),
                           ("y_edges_m", rows * a * cells), ("lat_edges_deg", rows * a * cells)):
            edges = extend_edges(f["grid/" + key][...], count)
            del f["grid/" + key]
            f.create_dataset("grid/" + key, data=edges)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_root")
    p.add_argument("city")
    p.add_argument("out_root")
    p.add_argument("name")
    p.add_argument("--repeat", nargs=2, type=int, default=[4, 5], metavar=("A", "B"))
    o = p.parse_args()
    src = pathlib.Path(o.data_root) / o.city
    out = pathlib.Path(o.out_root) / o.name
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "cond").mkdir(parents=True, exist_ok=True)
    for datatype in ("traffic", "user"):
        f = src / "data" / f"{o.city}_{datatype}_data.h5"
        if f.exists():
            enlarge(f, out / "data" / f"{o.name}_{datatype}_data.h5", *o.repeat)
    enlarge(src / "cond" / f"{o.city}_cond.h5", out / "cond" / f"{o.name}_cond.h5", *o.repeat)
    with h5py.File(out / "cond" / f"{o.name}_cond.h5", "r") as f:
        print(f"{out}: {f['loc_2000m'].shape[0]} x {f['loc_2000m'].shape[1]} tiles")


if __name__ == "__main__":
    main()
