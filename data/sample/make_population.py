#!/usr/bin/python3
"""Seeded generator of the sample city's population raster (population.tif).

No real population raster of Nanchang is public here, so the sample's is derived from the real POI
tables of the box (POI_Nanchang/, the reference repository's AMap-derived tables):
  * grid: WorldPop's layout (3" pixels, EPSG:4326, float32 people per pixel, nodata -99999) on the
    sample box plus 0.005 deg (the goldens' pop_small.tif grid: 132 x 72 pixels from 115.795 E,
    28.735 N);
  * weights: every POI row counts 1 in its pixel, residential rows (行业中类 住宅区 or
    行业大类 商务住宅) count 8, so housing estates carry most of the people;
  * smoothing: a separable Gaussian of sigma 3 pixels (~ 250 m), then a floor of 2 % of the mean
    (rural background), then seeded multiplicative log-normal noise (sigma 0.25, numpy
    default_rng(20251125));
  * scale: 5,000 people per km2 on average over the box (an assumption of the order of urban
    Nanchang districts, not a census figure).
Deterministic: the same POI tables give the same bytes.
Run with Debian's python3 (numpy and python3-gdal): data/sample/make_population.py
"""
import csv
import math
import pathlib

import numpy as np
from osgeo import gdal, osr

here = pathlib.Path(__file__).resolve().parent
rng = np.random.default_rng(20251125)

X0, Y0, STEP, COLS, ROWS = 115.795, 28.735, 1.0 / 1200.0, 132, 72
RESIDENTIAL_WEIGHT = 8.0
SIGMA_PX = 3.0
FLOOR = 0.02
NOISE_SIGMA = 0.25
PEOPLE_PER_KM2 = 5000.0

weights = np.zeros((ROWS, COLS))
for table in sorted((here / "POI_Nanchang").glob("*.csv")):
    with open(table, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            if not row["wgs84_经度"] or not row["wgs84_纬度"]:
                continue
            col = math.floor((float(row["wgs84_经度"]) - X0) / STEP)
            r = math.floor((Y0 - float(row["wgs84_纬度"])) / STEP)
            if 0 <= r < ROWS and 0 <= col < COLS:
                residential = row.get("行业中类") == "住宅区" or row.get("行业大类") == "商务住宅"
                weights[r, col] += RESIDENTIAL_WEIGHT if residential else 1.0

radius = int(4 * SIGMA_PX)
kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / SIGMA_PX) ** 2)
kernel /= kernel.sum()
smooth = np.apply_along_axis(lambda v: np.convolve(np.pad(v, radius, mode="edge"), kernel, "valid"), 1, weights)
smooth = np.apply_along_axis(lambda v: np.convolve(np.pad(v, radius, mode="edge"), kernel, "valid"), 0, smooth)
smooth = smooth + FLOOR * smooth.mean()
smooth *= rng.lognormal(0.0, NOISE_SIGMA, smooth.shape)

# Pixel areas shrink with latitude: scale to the mean density over the box's area.
lat_centres = Y0 - (np.arange(ROWS) + 0.5) * STEP
pixel_km2 = (STEP * 111.32) ** 2 * np.cos(np.radians(lat_centres))[:, None] * np.ones((1, COLS))
population = smooth * (PEOPLE_PER_KM2 * pixel_km2.sum() / smooth.sum())

out = here / "population.tif"
tmp = out.with_suffix(".tif.tmp")
ds = gdal.GetDriverByName("GTiff").Create(str(tmp), COLS, ROWS, 1, gdal.GDT_Float32, ["COMPRESS=DEFLATE"])
ds.SetGeoTransform((X0, STEP, 0.0, Y0, 0.0, -STEP))
srs = osr.SpatialReference()
srs.ImportFromEPSG(4326)
ds.SetProjection(srs.ExportToWkt())
band = ds.GetRasterBand(1)
band.SetNoDataValue(-99999.0)
band.WriteArray(population.astype(np.float32))
ds = None
tmp.replace(out)
print(f"wrote {out}: {population.sum():.0f} people, max {population.max():.0f} per pixel, "
      f"{int((weights > 0).sum())} pixels with a POI")
