import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely import Point, Polygon

from placegeo import crs as pcrs
from placegeo.errors import CRSError, DatumError, GeographicCRSError

# Published test vectors of the GCJ-02 algorithm (WGS84 lat/lon -> GCJ-02 lat/lon), from eviltransform
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


def _metres(lon1, lat1, lon2, lat2):
    geod = pyproj.Geod(ellps="GRS80")
    return geod.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(("lat", "lon", "glat", "glon"), EVILTRANSFORM)
def test_wgs84_to_gcj02_matches_published_vectors(lat, lon, glat, glon):
    x, y = pcrs.convert(lon, lat, src="wgs84", dst="gcj02")
    assert abs(x - glon) < 1e-9 and abs(y - glat) < 1e-9


def test_gcj02_to_bd09_matches_published_vector():
    x, y = pcrs.convert(116.404, 39.915, src="gcj02", dst="bd09")
    assert abs(x - 116.41036949371029) < 1e-9 and abs(y - 39.92133699351022) < 1e-9


@pytest.mark.parametrize(("src", "dst"), [("wgs84", "gcj02"), ("wgs84", "bd09"), ("gcj02", "bd09"),
                                          ("cgcs2000", "bd09")])
def test_round_trip_around_jinan_is_within_a_centimetre(src, dst):
    rng = np.random.default_rng(7)
    lon = rng.uniform(116.2, 118.0, 5000)
    lat = rng.uniform(36.0, 37.6, 5000)
    x, y = pcrs.convert(lon, lat, src=src, dst=dst)
    back_x, back_y = pcrs.convert(x, y, src=dst, dst=src)
    err_m = _metres(lon, lat, back_x, back_y)
    assert err_m.max() < 0.01, f"worst round trip error {err_m.max():.4f} m"
    # and the shift itself is real: hundreds of metres around Jinan
    assert _metres(lon, lat, x, y).min() > 100


def test_inverse_is_exact_where_the_naive_inverse_is_off_by_metres():
    lon, lat = 117.0194, 36.6512
    gx, gy = pcrs.convert(lon, lat, src="wgs84", dst="gcj02")
    naive_x, naive_y = 2 * gx - pcrs.convert(gx, gy, src="wgs84", dst="gcj02")[0], \
        2 * gy - pcrs.convert(gx, gy, src="wgs84", dst="gcj02")[1]
    wx, wy = pcrs.convert(gx, gy, src="gcj02", dst="wgs84")
    assert _metres(lon, lat, wx, wy) < 0.001
    assert _metres(lon, lat, naive_x, naive_y) > _metres(lon, lat, wx, wy)


def test_outside_china_is_not_shifted():
    x, y = pcrs.convert(2.35, 48.85, src="wgs84", dst="gcj02")
    assert (float(x), float(y)) == (2.35, 48.85)


def test_wgs84_and_cgcs2000_are_the_same_at_map_accuracy():
    x, y = pcrs.convert(117.0, 36.6, src="wgs84", dst="cgcs2000")
    assert (float(x), float(y)) == (117.0, 36.6)


def test_unknown_datum_and_bad_coordinates_say_what_to_do():
    with pytest.raises(DatumError, match="gcj02"):
        pcrs.convert(117, 36, src="mars2000", dst="wgs84")
    with pytest.raises(DatumError, match="not a longitude/latitude"):
        pcrs.convert(500000.0, 4060000.0, src="gcj02", dst="wgs84")


def test_aliases():
    assert pcrs.normalize_datum("Amap") == "gcj02"
    assert pcrs.normalize_datum("BD-09") == "bd09"
    assert pcrs.normalize_datum("EPSG:4490") == "cgcs2000"


@pytest.mark.parametrize(("lon", "cm_epsg", "zone_epsg"), [(117.02, 4548, 4527), (75.0, 4534, 4513),
                                                           (135.0, 4554, 4533), (115.4, 4547, 4526)])
def test_gauss_kruger_zone_choice(lon, cm_epsg, zone_epsg):
    assert pcrs.gk_zone_crs(lon).to_epsg() == cm_epsg
    assert pcrs.gk_zone_crs(lon, zone_prefix=True).to_epsg() == zone_epsg


def test_gk_zone_outside_china_is_refused():
    with pytest.raises(CRSError, match="Gauss-Kruger"):
        pcrs.gk_zone_crs(10.0)


def test_axis_order_is_lon_lat_even_for_epsg_4490():
    # EPSG:4490 declares latitude first; placegeo's transformers always take and give (lon, lat)
    t = pcrs.transformer("EPSG:4490", "EPSG:4548")
    x, y = t.transform(117.0, 36.6)
    assert 490_000 < x < 510_000 and 4_000_000 < y < 4_100_000


def test_to_metric_picks_4548_for_jinan_and_metric_ops_refuse_degrees():
    g = gpd.GeoDataFrame(geometry=[Point(117.02, 36.67)], crs="EPSG:4490")
    with pytest.raises(GeographicCRSError, match="to_metric"):
        pcrs.require_metric(g, "buffering")
    m = pcrs.to_metric(g)
    assert m.crs.to_epsg() == 4548
    pcrs.require_metric(m)  # no error
    with pytest.raises(CRSError, match="set_crs"):
        pcrs.require_metric(gpd.GeoDataFrame(geometry=[Point(0, 0)]))
    assert g.crs.to_epsg() == 4490  # input untouched


def test_shift_datum_keeps_attributes_and_does_not_mutate():
    poly = Polygon([(117.0, 36.6), (117.1, 36.6), (117.1, 36.7)])
    g = gpd.GeoDataFrame({"name": ["a"]}, geometry=[poly], crs="EPSG:4490")
    before = g.geometry.iloc[0].wkt
    gcj = pcrs.shift_datum(g, src="cgcs2000", dst="gcj02")
    assert gcj.crs is None and gcj.attrs["datum"] == "gcj02" and list(gcj.columns) == ["name", "geometry"]
    assert g.geometry.iloc[0].wkt == before
    back = pcrs.shift_datum(gcj, src="gcj02", dst="cgcs2000")
    assert back.crs.to_epsg() == 4490
    assert back.geometry.iloc[0].equals_exact(poly, 1e-9)


@pytest.mark.parametrize(("text", "kind"), [("EPSG:4490", "cgcs2000"), ("4326", "wgs84"), ("gk", "gk"),
                                            ("gcj02", "gcj02"), ("EPSG:4548", "crs")])
def test_parse_crs(text, kind):
    assert pcrs.parse_crs(text)[0] == kind


def test_parse_crs_unknown():
    with pytest.raises(CRSError, match="unknown CRS"):
        pcrs.parse_crs("EPSG:999999")
