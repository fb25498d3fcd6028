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
from osgeo import gdal, ogr, osr

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

h = h5py.File(out, "r")
mean = h["/500m/data"][...].mean(axis=2)  # (rows from the south, cols)
x = h["/grid/x_edges_m"][::5]
y = h["/grid/y_edges_m"][::5]
epsg = int(h.attrs["epsg"])
north_up = np.flipud(mean).astype(np.float32)
tif = tmp / "mean.tif"
t = gdal.GetDriverByName("GTiff").Create(str(tif), north_up.shape[1], north_up.shape[0], 1, gdal.GDT_Float32)
t.SetGeoTransform([x[0], 500.0, 0, y[mean.shape[0]], 0, -500.0])
srs = osr.SpatialReference()
srs.ImportFromEPSG(epsg)
t.SetProjection(srs.ExportToWkt())
t.GetRasterBand(1).WriteArray(np.log10(1 + north_up))
t = None
hi = float(np.log10(1 + north_up.max()))
ramp = tmp / "ramp.txt"
ramp.write_text(f"0 255 255 255\n{hi * 0.35} 253 204 138\n{hi * 0.65} 227 74 51\n{hi} 127 0 0\n")
png = root / "data/figures/milan_500m_traffic.png"
gdal.DEMProcessing(str(tmp / "color.tif"), str(tif), "color-relief", colorFilename=str(ramp))
gdal.Translate(str(png), str(tmp / "color.tif"), format="PNG", width=north_up.shape[1] * 12, height=north_up.shape[0] * 12,
               resampleAlg="nearest")
print(f"wrote {png}: {mean.shape[0]} x {mean.shape[1]} cells of 500 m, weekly mean max {north_up.max():.4g}, "
      f"in-box stations {int(h.attrs['stations_in_box'])}, residents {int(h.attrs['residents'])}")
