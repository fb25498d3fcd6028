#!/usr/bin/python3
"""Opens a zoomdiff results file the way our users do (DESIGN §7, issue 20) and checks what they
rely on: xarray with the h5netcdf and netcdf4 engines sees named dimensions, coordinates, the CRS,
UDUNITS units and NaN outside the city at the root (the finest scale) and in each coarser group;
GDAL's netCDF driver sees the CRS and the geotransform.

usage: check_cf_results.py <City>_<datatype>.h5      (exit 0: every check passed)
Run by ResultsH5.OpensInXarrayAndGdalWithCoordinatesAndCrs; needs python3-xarray,
python3-h5netcdf, python3-netcdf4 and gdal-bin (scripts/setup.sh installs them).
"""
import json
import subprocess
import sys

import numpy as np
import xarray as xr

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def check_scale(ds, where, engine):
    tag = f"{engine} {where}"
    check(ds["samples"].dims == ("sample", "time", "y", "x"), f"{tag}: samples dims {ds['samples'].dims}")
    check(ds["mean"].dims == ("time", "y", "x"), f"{tag}: mean dims {ds['mean'].dims}")
    for name in ("x", "y", "time", "sample"):
        check(name in ds.coords, f"{tag}: no coordinate {name}")
    check(ds["lat"].dims == ("y", "x") and ds["lon"].dims == ("y", "x"), f"{tag}: lat/lon dims")
    check("lat" in ds["mean"].coords and "lon" in ds["mean"].coords, f"{tag}: mean has no lat/lon coordinates")
    check(ds["x"].attrs.get("units") == "m" and ds["y"].attrs.get("standard_name") == "projection_y_coordinate",
          f"{tag}: x/y attributes {dict(ds['x'].attrs)}")
    check(bool(np.all(np.diff(ds["y"].values) > 0)), f"{tag}: y not ascending (rows from the south)")
    check(ds["lat"].attrs.get("units") == "degrees_north", f"{tag}: lat units")
    check(ds["mean"].attrs.get("grid_mapping") == "crs", f"{tag}: mean grid_mapping")
    crs = ds["crs"].attrs
    check(crs.get("grid_mapping_name") == "transverse_mercator", f"{tag}: grid_mapping_name {crs}")
    check("UTM zone" in str(crs.get("crs_wkt", "")), f"{tag}: crs_wkt")
    check(ds["mean"].attrs.get("units") is not None, f"{tag}: mean has no units")
    # time: "hours" decodes to a duration since the start of the week.
    check(np.issubdtype(ds["time"].dtype, np.timedelta64), f"{tag}: time dtype {ds['time'].dtype}")
    check(ds.sizes["time"] == 168, f"{tag}: {ds.sizes['time']} hours")
    mask = ds["mask"].values.astype(bool)
    mean = ds["mean"].values
    check(bool(np.all(np.isnan(mean[:, ~mask]))), f"{tag}: values outside the city are not NaN")
    check(bool(np.all(np.isfinite(mean[:, mask]))), f"{tag}: NaN inside the city")
    return mean


def main(path):
    for engine in ("h5netcdf", "netcdf4"):
        with xr.open_dataset(path, engine=engine) as root:
            check(root.attrs.get("Conventions") == "CF-1.8", f"{engine}: Conventions {root.attrs.get('Conventions')}")
            scale = root.attrs.get("root_scale")
            fine = check_scale(root, f"root ({scale})", engine)
        for group in ("2000m", "1000m"):
            with xr.open_dataset(path, engine=engine, group=group) as ds:
                coarse = check_scale(ds, group, engine)
                check(coarse.shape[1] < fine.shape[1], f"{engine} {group}: not coarser than the root")

    # GDAL's netCDF driver: the CRS and a north-up geotransform from the coordinates.
    info = json.loads(subprocess.run(["gdalinfo", "-json", f'NETCDF:"{path}":mean'],
                                     check=True, capture_output=True, text=True).stdout)
    wkt = info.get("coordinateSystem", {}).get("wkt", "")
    check("UTM zone" in wkt, f"gdalinfo: no UTM CRS ({wkt[:80]!r})")
    gt = info.get("geoTransform", [])
    check(len(gt) == 6 and gt[1] > 0, f"gdalinfo: geotransform {gt}")
    mdim = subprocess.run(["gdalmdiminfo", path], check=True, capture_output=True, text=True).stdout
    check('"samples"' in mdim and '"crs"' in mdim, "gdalmdiminfo: samples/crs not listed")

    if failures:
        print("\n".join(failures))
        return 1
    print("ok: xarray (h5netcdf, netcdf4) and GDAL read", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
