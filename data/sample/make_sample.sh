#!/usr/bin/env bash
# Rebuilds data/sample/ from ../shared/golden (the inputs of the reference's golden run).
# Needs gdal-bin (ogr2ogr) and Debian's python3 with python3-numpy and python3-gdal. Deterministic: the same inputs give the same files
# (but for the date stamp in each .dbf header).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
golden=${ZOOMDIFF_GOLDEN_DIR:-$here/../../../shared/golden}
# The sample box (the golden "small" box) and a margin so features near the edge stay whole.
lon_min=115.80 lat_min=28.68 lon_max=115.90 lat_max=28.73 margin=0.01

rm -rf "$here/OSM_Jiangxi" "$here/POI_Nanchang" "$here/boundary"
mkdir -p "$here/OSM_Jiangxi" "$here/POI_Nanchang" "$here/boundary"

# OSM: whole features that meet the box (not clipped), so every statistic on the grid equals the
# one computed from the full province layer.
spat=$(python3 -c "print($lon_min-$margin, $lat_min-$margin, $lon_max+$margin, $lat_max+$margin)")
for shp in "$golden"/inputs/OSM_Jiangxi/gis_osm_*_free_1.shp; do
  ogr2ogr -q -spat $spat -lco ENCODING=UTF-8 "$here/OSM_Jiangxi/$(basename "$shp")" "$shp"
done
# Layers absent from the reference snapshot: empty stand-ins, as in the golden end-to-end run.
for shp in "$golden"/inputs/synthetic_for_env_extra_run/gis_osm_*_free_1.shp; do
  ogr2ogr -q -lco ENCODING=UTF-8 "$here/OSM_Jiangxi/$(basename "$shp")" "$shp"
done
cp "$golden/inputs/OSM_Jiangxi/README" "$here/OSM_Jiangxi/README"

# POI: rows inside the box (plus margin), all columns kept, BOM and header kept.
python3 - "$golden/inputs/POI_Nanchang" "$here/POI_Nanchang" $spat <<'PY'
import csv, pathlib, sys
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
x0, y0, x1, y1 = map(float, sys.argv[3:7])
for f in sorted(src.glob("*.csv")):
    with open(f, encoding="utf-8-sig", newline="") as fin:
        rows = list(csv.reader(fin))
    head = rows[0]
    ilon, ilat = head.index("wgs84_经度"), head.index("wgs84_纬度")
    keep = [r for r in rows[1:] if r[ilon] and r[ilat] and x0 <= float(r[ilon]) <= x1 and y0 <= float(r[ilat]) <= y1]
    with open(dst / f.name, "w", encoding="utf-8-sig", newline="") as fout:
        w = csv.writer(fout, lineterminator="\n")
        w.writerow(head)
        w.writerows(keep)
PY

# Boundary: the box rectangle with the reference's field 地名 = 南昌市 and ENG_NAME = Nanchang.
ogr2ogr -q -lco ENCODING=UTF-8 "$here/boundary/nanchang_sample.shp" \
  "$golden/inputs/synthetic_for_env_extra_run/small_bbox_boundary.shp"

# Population: derived from the real POI density of the box, smoothed (seeded, documented in the
# script); then the base stations placed by it, carrying real UoMo weekly profiles.
/usr/bin/python3 "$here/make_population.py"
/usr/bin/python3 "$here/make_stations.py" "$(dirname "$golden")"
