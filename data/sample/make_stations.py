#!/usr/bin/python3
"""Seeded generator of the sample city's base-station files (stations_traffic.csv, stations_user.csv).

No real base-station data of Nanchang are public, so the stations are derived:
  * positions: 120 stations drawn with probability proportional to the sample population raster
    (population.tif, 3" pixels), jittered uniformly inside the chosen pixel;
  * weekly profiles: each station takes the first 168 hourly steps (one week) of one real cell of
    the UoMo "SD" patches (../shared/data/uomo_patches_traffic_users_poi, MIT, (c) 2025 FIB LAB,
    Tsinghua University): the traffic series for stations_traffic.csv and the same cell's user-count
    series for stations_user.csv;
  * scale: each series is rescaled so that its weekly mean is proportional to the population within
    ~500 m of the station (traffic: 200 units per person-week mean; users: 0.05 active users per
    person), users rounded to integers (as operator user counts are).
Run with Debian's python3 (numpy and python3-gdal): data/sample/make_stations.py [shared_dir]
"""
import csv
import pathlib
import sys

import numpy as np
from osgeo import gdal

here = pathlib.Path(__file__).resolve().parent
shared = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent.parent.parent / "shared"
rng = np.random.default_rng(20251124)
N_STATIONS = 120

ds = gdal.Open(str(here / "population.tif"))
pop = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
nodata = ds.GetRasterBand(1).GetNoDataValue()
pop[(pop == nodata) | ~np.isfinite(pop)] = 0.0
x0, dx, _, y0, _, dy = ds.GetGeoTransform()

# Stations where people are.
flat = pop.ravel() / pop.sum()
picks = rng.choice(flat.size, size=N_STATIONS, replace=False, p=flat)
rows, cols = np.unravel_index(picks, pop.shape)
lon = x0 + (cols + rng.random(N_STATIONS)) * dx
lat = y0 + (rows + rng.random(N_STATIONS)) * dy

# Local population: 5x5 pixels (~ 460 m x 400 m) around each station.
pad = np.pad(pop, 2)
local = np.array([pad[r:r + 5, c:c + 5].sum() for r, c in zip(rows, cols)])

uomo = np.load(shared / "data/uomo_patches_traffic_users_poi/uomo_SD_series.npz")
traffic = uomo["traffic"][:, :168].transpose(0, 2, 3, 1).reshape(-1, 168)  # (cells, 168)
users = uomo["users"][:, :168].transpose(0, 2, 3, 1).reshape(-1, 168)
usable = np.where((traffic.mean(axis=1) > 0) & (users.mean(axis=1) > 0))[0]
cells = rng.choice(usable, size=N_STATIONS, replace=True)

def write(path, series):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["station", "lon", "lat"] + [f"h{h:03d}" for h in range(168)])
        for i in range(N_STATIONS):
            w.writerow([f"S{i:03d}", f"{lon[i]:.6f}", f"{lat[i]:.6f}"] + list(series[i]))

t = traffic[cells] / traffic[cells].mean(axis=1, keepdims=True) * (200.0 * local[:, None])
u = users[cells] / users[cells].mean(axis=1, keepdims=True) * (0.05 * local[:, None])
write(here / "stations_traffic.csv", [[f"{v:.2f}" for v in row] for row in t])
write(here / "stations_user.csv", [[str(int(round(v))) for v in row] for row in u])
print(f"wrote {N_STATIONS} stations; total weekly traffic {t.sum():.4g}, users {np.rint(u).sum():.0f}")
