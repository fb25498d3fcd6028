#!/usr/bin/python3
"""Clip the Geofabrik OSM_Jiangxi shapefile layers to the region the golden tests read.

Usage:
    /usr/bin/python3 tests/data/tools/clip_inputs.py SOURCE_DIR [DEST_DIR]

SOURCE_DIR is an unclipped OSM_Jiangxi folder (the byte-for-byte copy of
tsinghua-fib-lab/MobileData ZoomDiff/datasets/cities/Nanchang/geographic_data/OSM_Jiangxi/ that
golden/inputs/SOURCE.md describes); DEST_DIR defaults to tests/data/golden/inputs/OSM_Jiangxi.

Why the goldens stay exact: a record is kept when its bounding box (stored in the .shp record)
meets KEEP_BOX, the union of the golden grids (prep.h5:/grids/nanchang contains /grids/small) widened
by MARGIN_DEG on every side. A feature outside KEEP_BOX cannot reach any cell of those grids: the
metre grid's corners lie within a few hundred metres of the degree box, the margin is ~5 km. The
kept records are copied byte for byte (.shp geometry, .dbf attributes) in their original order, so
every feature that meets a grid is read with the same coordinates and in the same order as from
the full layer, and every per-cell sum is accumulated in the same order: bit-identical arrays.
Only the headers change (record count, file length, bounding box); .prj, .cpg and README are
copied unchanged. The golden OSM tests compare per-cell arrays only, never a layer's feature count.
"""

import pathlib
import shutil
import struct
import sys

# lon_min, lat_min, lon_max, lat_max of prep.h5:/grids/nanchang (the small grid lies inside it).
GRID_BOX = (115.80, 28.55, 116.05, 28.80)
MARGIN_DEG = 0.05
KEEP_BOX = (GRID_BOX[0] - MARGIN_DEG, GRID_BOX[1] - MARGIN_DEG,
            GRID_BOX[2] + MARGIN_DEG, GRID_BOX[3] + MARGIN_DEG)

LAYERS = (
    "gis_osm_pois_free_1",
    "gis_osm_natural_free_1",
    "gis_osm_natural_a_free_1",
    "gis_osm_railways_free_1",
    "gis_osm_pofw_a_free_1",
    "gis_osm_traffic_a_free_1",
)
POINT_TYPES = (1, 11, 21)  # Point, PointZ, PointM: x, y right after the shape type


def record_box(content):
    """(x_min, y_min, x_max, y_max) of one .shp record's content, or None for a null shape."""
    shape_type = struct.unpack("<i", content[:4])[0]
    if shape_type == 0:
        return None
    if shape_type in POINT_TYPES:
        x, y = struct.unpack("<2d", content[4:20])
        return (x, y, x, y)
    return struct.unpack("<4d", content[4:36])


def meets(box, keep):
    return not (box[2] < keep[0] or box[0] > keep[2] or box[3] < keep[1] or box[1] > keep[3])


def read_shp_records(shp):
    data = shp.read_bytes()
    records = []
    pos = 100
    while pos < len(data):
        _, words = struct.unpack(">2i", data[pos:pos + 8])
        content = data[pos + 8:pos + 8 + 2 * words]
        records.append(content)
        pos += 8 + 2 * words
    return data[:100], records


def clip_layer(src_dir, dst_dir, stem):
    header, records = read_shp_records(src_dir / (stem + ".shp"))
    dbf = (src_dir / (stem + ".dbf")).read_bytes()
    n_dbf = struct.unpack("<I", dbf[4:8])[0]
    dbf_header_len, dbf_record_len = struct.unpack("<2H", dbf[8:12])
    if n_dbf != len(records):
        sys.exit(f"{stem}: .dbf has {n_dbf} records, .shp has {len(records)}")

    kept = []
    boxes = []
    for i, content in enumerate(records):
        box = record_box(content)
        if box is not None and meets(box, KEEP_BOX):
            kept.append(i)
            boxes.append(box)

    shp_body = bytearray()
    shx_body = bytearray()
    for number, i in enumerate(kept, start=1):
        content = records[i]
        shx_body += struct.pack(">2i", (100 + len(shp_body)) // 2, len(content) // 2)
        shp_body += struct.pack(">2i", number, len(content) // 2) + content

    def with_header(body):
        out = bytearray(header)
        out[24:28] = struct.pack(">i", (100 + len(body)) // 2)
        if boxes:
            out[36:68] = struct.pack("<4d", min(b[0] for b in boxes), min(b[1] for b in boxes),
                                     max(b[2] for b in boxes), max(b[3] for b in boxes))
        return bytes(out + body)

    (dst_dir / (stem + ".shp")).write_bytes(with_header(shp_body))
    (dst_dir / (stem + ".shx")).write_bytes(with_header(shx_body))

    dbf_out = bytearray(dbf[:dbf_header_len])
    dbf_out[4:8] = struct.pack("<I", len(kept))
    for i in kept:
        start = dbf_header_len + i * dbf_record_len
        dbf_out += dbf[start:start + dbf_record_len]
    dbf_out += b"\x1a"
    (dst_dir / (stem + ".dbf")).write_bytes(bytes(dbf_out))

    for ext in (".prj", ".cpg"):
        shutil.copyfile(src_dir / (stem + ext), dst_dir / (stem + ext))
    print(f"{stem}: kept {len(kept)} of {len(records)} records")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    src_dir = pathlib.Path(sys.argv[1])
    default_dst = pathlib.Path(__file__).resolve().parents[1] / "golden" / "inputs" / "OSM_Jiangxi"
    dst_dir = pathlib.Path(sys.argv[2]) if len(sys.argv) == 3 else default_dst
    if src_dir.resolve() == dst_dir.resolve():
        sys.exit("SOURCE_DIR and DEST_DIR must differ")
    dst_dir.mkdir(parents=True, exist_ok=True)
    for stem in LAYERS:
        clip_layer(src_dir, dst_dir, stem)
    shutil.copyfile(src_dir / "README", dst_dir / "README")


if __name__ == "__main__":
    main()
