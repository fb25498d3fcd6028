#!/usr/bin/python3
"""North-up PNG (and GeoTIFF) quicklooks of zoomdiff HDF5 outputs.

  scripts/quicklook.py FILE.h5 OUT_DIR [DATASET ...]

FILE.h5 is a condition file (<City>_cond.h5) or a data file (<City>_<type>_data.h5). DATASET names a
2-D or 3-D array of the file (default: every /100m/* and /500m/* array; 3-D arrays are shown as
their mean over the last axis, e.g. the weekly mean; POI counts summed over categories). Each map
is written as OUT_DIR/<scale>_<name>.tif (georeferenced in the city's UTM zone, rows flipped to
north-up) and OUT_DIR/<scale>_<name>.png (log colour scale, white -> dark red). Needs Debian's python3 with numpy, python3-h5py, python3-gdal.
"""
import pathlib
import sys

import h5py
import numpy as np
from osgeo import gdal, osr


gdal.UseExceptions()
gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")  # no .aux.xml beside the PNGs


def render(h, name, out_dir):
    scale = name.strip("/").split("/")[0]
    step = {"100m": 1, "500m": 5}.get(scale)
    if step is None:
        return None
    a = h[name][...].astype(np.float64)
    if a.ndim == 3:
        a = a.sum(axis=2) if "poi" in name else a.mean(axis=2)
    if a.ndim != 2:
        return None
    x0 = h["/grid/x_edges_m"][0]
    y0 = h["/grid/y_edges_m"][0]
    cell = 100.0 * step
    north_up = np.flipud(a).astype(np.float32)
    stem = out_dir / f"{scale}_{pathlib.PurePosixPath(name).name}"
    tif = gdal.GetDriverByName("GTiff").Create(str(stem) + ".tif", a.shape[1], a.shape[0], 1, gdal.GDT_Float32)
    tif.SetGeoTransform([x0, cell, 0, y0 + cell * a.shape[0], 0, -cell])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(int(h.attrs["epsg"]))
    tif.SetProjection(srs.ExportToWkt())
    tif.GetRasterBand(1).WriteArray(north_up)
    tif = None
    logged = np.log10(1.0 + np.maximum(north_up, 0))
    hi = float(logged.max()) or 1.0
    mem = gdal.GetDriverByName("MEM").Create("", a.shape[1], a.shape[0], 1, gdal.GDT_Float32)
    mem.GetRasterBand(1).WriteArray(logged)
    ramp = out_dir / ".ramp.txt"
    ramp.write_text(f"0 255 255 255\n{hi * 0.35} 253 204 138\n{hi * 0.65} 227 74 51\n{hi} 127 0 0\n")
    colour = gdal.DEMProcessing("", mem, "color-relief", format="MEM", colorFilename=str(ramp))
    zoom = max(1, 600 // max(a.shape))
    gdal.Translate(str(stem) + ".png", colour, format="PNG", width=a.shape[1] * zoom,
                   height=a.shape[0] * zoom, resampleAlg="nearest")
    ramp.unlink()
    return str(stem) + ".png"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, out_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "r") as h:
        names = sys.argv[3:]
        if not names:
            names = [f"/{s}/{k}" for s in ("100m", "500m") if s in h for k in h[s]]
        for name in names:
            png = render(h, name, out_dir)
            if png:
                print(png)


if __name__ == "__main__":
    main()
