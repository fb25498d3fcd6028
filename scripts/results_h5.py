"""Reads the cells of a zoomdiff results file (<City>_<datatype>.h5 of zoomdiff_infer) with h5py,
whatever its layout, for our bench and helper scripts:
  zoomdiff-results 2 (CF netCDF-4, December 2026): the finest scale at the root, the others in
      groups named after them; samples (sample, time, y, x), mean (time, y, x), mask (y, x),
      NaN outside the city. Users open it with xarray (README "Outputs").
  zoomdiff-results 1: per scale group, the masked cells as lists: samples (M, sample, 168),
      mean (M, 168), row, col.
"""
import numpy as np


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def layout(f):
    """1 or 2: the results layout of an open h5py.File."""
    fmt = _text(f.attrs.get("format", ""))
    if fmt == "zoomdiff-results 1":
        return 1
    if fmt == "zoomdiff-results 2":
        return 2
    raise SystemExit(f"{f.filename}: not a zoomdiff results file (format {fmt!r})")


def scale_group(f, scale):
    """The h5py group that holds `scale` ("2000m", "1000m", "500m")."""
    if layout(f) == 2 and _text(f.attrs.get("root_scale", "")) == scale:
        return f
    return f[scale]


def cells(f, scale):
    """The masked cells of `scale`, row-major from the south-west: a dict of samples (M, ns, 168),
    mean (M, 168), row (M,), col (M,)."""
    g = scale_group(f, scale)
    if layout(f) == 1:
        return {"samples": g["samples"][()], "mean": g["mean"][()], "row": g["row"][()], "col": g["col"][()]}
    row, col = np.nonzero(g["mask"][()])
    samples = g["samples"][()]                                    # (ns, 168, rows, cols)
    mean = g["mean"][()]                                          # (168, rows, cols)
    return {"samples": samples[:, :, row, col].transpose(2, 0, 1), "mean": mean[:, row, col].T,
            "row": row, "col": col}


def replace_cells(f, scale, samples):
    """Overwrites the samples (M, ns, 168) of the masked cells of `scale` (cells() order) and
    their mean, in a file opened "r+"."""
    g = scale_group(f, scale)
    mean = samples.astype(np.float64).mean(axis=1).astype(np.float32)
    if layout(f) == 1:
        g["samples"][...] = samples
        g["mean"][...] = mean
        return
    row, col = np.nonzero(g["mask"][()])
    cube = g["samples"][()]
    cube[:, :, row, col] = samples.transpose(1, 2, 0)
    g["samples"][...] = cube
    grid = g["mean"][()]
    grid[:, row, col] = mean.T
    g["mean"][...] = grid
