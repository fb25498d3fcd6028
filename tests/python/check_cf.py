#!/usr/bin/python3
"""Opens a zoomdiff output the way our users do (DESIGN §7, issue 20) and checks what they rely
on: xarray with the h5netcdf and netcdf4 engines opens the root and every group with named
dimensions and coordinates, the CRS, UDUNITS units and, in results, NaN outside the city; GDAL's
netCDF driver sees the CRS and the geotransform.

usage: check_cf.py results|data|cond|uomo <file.h5>      (exit 0: every check passed)
  results  <City>_<datatype>.h5 of zoomdiff_infer
  data     <City>_<datatype>_data.h5 of grid_meta     cond  <City>_cond.h5 of env_extra
  uomo     a data or condition file of uomo_import (placeholder grid: no CRS)
Run by the C++ tests (io/results_store_test.cpp, io/cond_store_test.cpp, io/uomo_import_test.cpp);
needs python3-xarray, python3-h5netcdf, python3-netcdf4 and gdal-bin (scripts/setup.sh).
"""
import json
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

failures = []
ENGINES = ("h5netcdf", "netcdf4")


def check(condition, what):
    if not condition:
        failures.append(what)


def groups(path):
    """"" (the root) and every group below it."""
    names = [""]
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Group) else None)
    return names


def check_map(ds, tag):
    """A group on a real map: projection coordinates, lat/lon and the grid mapping."""
    for name in ("x", "y", "lat", "lon", "crs"):
        check(name in ds.variables, f"{tag}: no {name}")
    if failures:
        return
    check(ds["x"].attrs.get("units") == "m" and ds["y"].attrs.get("standard_name") == "projection_y_coordinate",
          f"{tag}: x/y attributes {dict(ds['x'].attrs)}")
    check(bool(np.all(np.diff(ds["y"].values) > 0)), f"{tag}: y not ascending (rows from the south)")
    check(ds["lat"].dims == ("y", "x") and ds["lat"].attrs.get("units") == "degrees_north", f"{tag}: lat")
    crs = ds["crs"].attrs
    check(crs.get("grid_mapping_name") == "transverse_mercator", f"{tag}: grid_mapping_name {crs}")
    check("UTM zone" in str(crs.get("crs_wkt", "")), f"{tag}: crs_wkt")
    for name, var in ds.data_vars.items():
        if "x" in var.dims and "y" in var.dims:
            check(var.attrs.get("grid_mapping") == "crs", f"{tag}: {name} has no grid_mapping")
            check("lat" in var.coords and "lon" in var.coords, f"{tag}: {name} has no lat/lon coordinates")


def check_units(ds, tag):
    for name, var in ds.variables.items():
        units = var.attrs.get("units")
        if units is not None:
            check(" " not in str(units) or str(units).startswith(("hours since", "days since")),
                  f"{tag}: {name} has units {units!r} (a sentence, not a UDUNITS unit)")


def check_results(ds, tag):
    check(ds["samples"].dims == ("sample", "time", "y", "x"), f"{tag}: samples dims {ds['samples'].dims}")
    check(ds["mean"].dims == ("time", "y", "x"), f"{tag}: mean dims {ds['mean'].dims}")
    check(np.issubdtype(ds["time"].dtype, np.timedelta64), f"{tag}: time dtype {ds['time'].dtype}")
    check(ds.sizes["time"] == 168, f"{tag}: {ds.sizes['time']} hours")
    mask = ds["mask"].values.astype(bool)
    mean = ds["mean"].values
    check(bool(np.all(np.isnan(mean[:, ~mask]))), f"{tag}: values outside the city are not NaN")
    check(bool(np.all(np.isfinite(mean[:, mask]))), f"{tag}: NaN inside the city")


def gdal_sees_crs(path, variable):
    info = json.loads(subprocess.run(["gdalinfo", "-json", f'NETCDF:"{path}":{variable}'],
                                     check=True, capture_output=True, text=True).stdout)
    wkt = info.get("coordinateSystem", {}).get("wkt", "")
    check("UTM zone" in wkt, f"gdalinfo {variable}: no UTM CRS ({wkt[:80]!r})")
    gt = info.get("geoTransform", [])
    check(len(gt) == 6 and gt[1] > 0, f"gdalinfo {variable}: geotransform {gt}")


def main(kind, path):
    for engine in ENGINES:
        for group in groups(path):
            tag = f"{engine} /{group}"
            try:
                ds = xr.open_dataset(path, engine=engine, group=group or None)
            except Exception as e:  # noqa: BLE001 - the message is the finding
                failures.append(f"{tag}: does not open: {type(e).__name__}: {e}")
                continue
            with ds:
                if group == "":
                    check(ds.attrs.get("Conventions") == "CF-1.8", f"{tag}: Conventions {ds.attrs.get('Conventions')}")
                check_units(ds, tag)
                on_map = "x" in ds.dims and kind != "uomo"
                if on_map:
                    check_map(ds, tag)
                if kind == "results" and on_map:
                    check_results(ds, tag)
                if kind == "data" and group in ("100m", "500m"):
                    check(ds["data"].dims == ("y", "x", "time"), f"{tag}: data dims {ds['data'].dims}")
                    since = str(ds["time"].encoding.get("units", "")).startswith("hours since")
                    wanted = np.datetime64 if since else np.timedelta64  # time_start known or not
                    check(np.issubdtype(ds["time"].dtype, wanted), f"{tag}: time decodes to {ds['time'].dtype}")
                if kind == "cond" and group in ("100m", "500m"):
                    check(ds["poi_count"].dims == ("y", "x", "poi_category"), f"{tag}: poi_count dims")
                    check(ds["poi_category"].dtype.kind in "OU", f"{tag}: poi_category labels")
                if group == "" and "data_2000m" in ds:
                    check(ds["data_2000m"].dims == ("tile_row", "tile_col", "cell_row", "cell_col", "time"),
                          f"{tag}: data_2000m dims {ds['data_2000m'].dims}")

    if kind == "results":
        gdal_sees_crs(path, "mean")
        mdim = subprocess.run(["gdalmdiminfo", path], check=True, capture_output=True, text=True).stdout
        check('"samples"' in mdim and '"crs"' in mdim, "gdalmdiminfo: samples/crs not listed")
    elif kind == "data":
        gdal_sees_crs(path, "/100m/residents")
    elif kind == "cond":
        gdal_sees_crs(path, "/100m/population")

    if failures:
        print("\n".join(failures))
        return 1
    print(f"ok: xarray ({', '.join(ENGINES)}) and GDAL read {kind} file {path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("results", "data", "cond", "uomo"):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
