#!/usr/bin/python3
"""Rebuilds data/figures/milan_500m_traffic.png: grid_meta on real Milan data, the weekly mean per 500 m cell.

Stations = the 10,000 Milano Grid cells (centroids) of ../shared/data/milan_telecom, each with its
real 62-day internet total spread over the real hourly week of the Duomo cell (Mon 2013-11-04);
population = the ISTAT census raster of ../shared/data/milan_population split to 3" pixels;
boundary = the Comune di Milano. Needs Debian's python3 with numpy, python3-gdal and python3-h5py,
and a built build/grid_meta. Usage: scripts/make_milan_map.py [shared_dir]
"""
import csv
import pathlib
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from osgeo import gdal, ogr

root = pathlib.Path(__file__).resolve().parent.parent
shared = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared"
data = shared / "data"
tmp = pathlib.Path(tempfile.mkdtemp(prefix="zoomdiff-milan-"))

hours = [float(r["internet"]) for r in csv.DictReader(open(data / "milan_telecom/ts_hourly_cet_3squares.csv"))
         if r["square_id"] == "5161"]
shape = np.array(hours[72:72 + 168]) / sum(hours[72:72 + 168])
totals = {int(r["square_id"]): float(r["internet"]) for r in csv.DictReader(open(data / "milan_telecom/square_totals_2mo.csv"))}
grid = ogr.Open(str(data / "milan_telecom/milano-grid.geojson"))
with open(tmp / "stations.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["station", "lon", "lat"] + [f"h{h:03d}" for h in range(168)])
    for feat in grid.GetLayer(0):
        c = feat.GetGeometryRef().Centroid()
        cell = feat.GetField("cellId")
        w.writerow([f"M{cell}", repr(c.GetX()), repr(c.GetY())] + [repr(totals[cell] * 7 / 62 * p) for p in shape])

src = gdal.Open(str(data / "milan_population/population_wgs84_0p005deg_sum.tif"))
v = src.GetRasterBand(1).ReadAsArray()
fine = np.where(v < 0, v, v / 36.0).repeat(6, axis=0).repeat(6, axis=1).astype(np.float32)
gt = list(src.GetGeoTransform())
gt[1] /= 6
gt[5] /= 6
dst = gdal.GetDriverByName("GTiff").Create(str(tmp / "pop.tif"), fine.shape[1], fine.shape[0], 1, gdal.GDT_Float32)
dst.SetGeoTransform(gt)
dst.SetProjection(src.GetProjection())
dst.GetRasterBand(1).SetNoDataValue(-99999)
dst.GetRasterBand(1).WriteArray(fine)
dst = None

out = tmp / "Milano_traffic_data.h5"
subprocess.run([str(root / "build/grid_meta"), "--cityname", "Milano", "--datatype", "traffic",
                "--data_path", str(tmp / "stations.csv"), "--shp_path", str(data / "milan_boundary/milano_comune_015146.geojson"),
                "--boundary_field", "name", "--pop_path", str(tmp / "pop.tif"), "--out", str(out), "--seed", "1", "-q"], check=True)

sys.path.insert(0, str(root / "scripts"))
import quicklook  # noqa: E402  (the shared renderer)

with h5py.File(out, "r") as h:
    png = pathlib.Path(quicklook.render(h, "/500m/data", tmp))
    target = root / "data/figures/milan_500m_traffic.png"
    target.write_bytes(png.read_bytes())
    print(f"wrote {target}: in-box stations {int(h.attrs['stations_in_box'])}, residents {int(h.attrs['residents'])}")
