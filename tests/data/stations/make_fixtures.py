import numpy as np
# 3 stations x 168 hours; every value is a multiple of 0.25 so its decimal text is exact.
n, t = 3, 168
traffic = (np.arange(n * t, dtype=np.float64).reshape(n, t) * 0.25 + np.array([[0.0], [1000.0], [2000.0]]))
lon = np.array([115.85, 115.9025, -73.5], dtype=np.float64)
lat = np.array([28.68, 28.7125, 40.25], dtype=np.float64)
np.savez("stations_traffic.npz", traffic=traffic, long=lon, lat=lat)
np.savez_compressed("stations_traffic_compressed.npz", traffic=traffic, long=lon, lat=lat)
user = np.arange(n * t, dtype=np.int64).reshape(n, t)
user[0, 0] = 3
user[1, 5] = 2**40 + 1
user[2, 167] = 2**53
np.savez("stations_user.npz", user=user, long=lon, lat=lat)
nan_series = traffic.copy()
nan_series[0, 1] = np.nan
nan_series[2, 100] = np.nan
np.savez("stations_nan.npz", traffic=nan_series, long=lon, lat=lat)
# Layout / dtype corner cases for the npy reader.
np.savez("npy_layouts.npz",
         cube_f4=np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 5.5,
         fortran_f8=np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
         i1=np.array([-128, 0, 127], dtype=np.int8),
         i2=np.array([-32768, 1, 32767], dtype=np.int16),
         i4=np.array([-2**31, 2, 2**31 - 1], dtype=np.int32),
         u1=np.array([0, 1, 255], dtype=np.uint8),
         u2=np.array([0, 2, 65535], dtype=np.uint16),
         u4=np.array([0, 3, 2**32 - 1], dtype=np.uint32),
         u8=np.array([0, 4, 2**53], dtype=np.uint64),
         b1=np.array([True, False, True]),
         scalar_f8=np.float64(2.5),
         big_endian_f8=np.array([1.0, 2.0], dtype=">f8"))
# Wide and long CSV of the same stations (repr() round-trips a double exactly).
with open("stations_traffic_wide.csv", "w") as f:
    f.write("Lon,LAT," + ",".join("h%03d" % h for h in range(t)) + "\n")
    for b in range(n):
        f.write(",".join([repr(lon[b]), repr(lat[b])] + [repr(v) for v in traffic[b]]) + "\n")
with open("stations_traffic_long.csv", "w") as f:
    f.write("station,lon,lat,hour,value\n")
    # hour-major order, so a reader cannot rely on rows being grouped by station
    for h in range(t):
        for b in range(n):
            f.write("S%d,%r,%r,%d,%r\n" % (b, lon[b], lat[b], h, traffic[b, h]))
