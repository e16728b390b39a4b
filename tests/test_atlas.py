from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely import Point

from helpers import atlas_digest, population_units, relief_points
from placegeo.atlas import Atlas, read_layer, write_layer
from placegeo.errors import AtlasError, CRSError, LayerNotFoundError, ValidationError
from placegeo.storage import gpkg as gpkg_store

BACKENDS = ["gpkg", "postgis"]


def test_write_and_read_round_trip_keeps_types_and_crs(atlas):
    assert atlas.write("relief_points", relief_points(3)) == 3
    back = atlas.read("relief_points")
    assert back.crs.to_epsg() == 4490
    assert back["point_id"].tolist() == ["rp0", "rp1", "rp2"]
    assert back["open_24h"].dtype == "boolean" and back["open_24h"].tolist() == [True, False, True]
    assert back["sample"].tolist() == [False] * 3
    assert back.geometry.iloc[1].equals_exact(Point(117.021, 36.66), 1e-9)


def test_polygons_are_stored_as_declared_and_integers_stay_integers(atlas):
    atlas.write("population_units", population_units())
    back = read_layer(atlas.location, "population_units")
    assert back["residents"].dtype == "Int64" and back["residents"].sum() == 3000
    assert pd.isna(back.loc[1, "town_code"])


def test_bbox_read_uses_the_given_window(atlas):
    atlas.write("relief_points", relief_points(5))
    part = atlas.read("relief_points", bbox=(117.0195, 36.65, 117.0215, 36.67))
    assert sorted(part["point_id"]) == ["rp0", "rp1"]


def test_append_refuses_keys_already_stored(atlas):
    atlas.write("relief_points", relief_points(2))
    with pytest.raises(ValidationError, match="already stored"):
        atlas.write("relief_points", relief_points(2, start=1), mode="append")
    atlas.write("relief_points", relief_points(2, start=2), mode="append")
    assert atlas.count("relief_points") == 4


def test_data_in_another_crs_is_stored_in_cgcs2000(atlas):
    g = relief_points(1).to_crs(4548)
    write_layer(atlas, "relief_points", g)
    back = atlas.read("relief_points")
    assert back.crs.to_epsg() == 4490
    assert abs(back.geometry.x[0] - 117.02) < 1e-7


def test_data_without_crs_is_refused(atlas):
    with pytest.raises(CRSError, match="set_crs"):
        atlas.write("relief_points", relief_points(1).set_crs(None, allow_override=True))


def test_invalid_data_writes_nothing(atlas):
    atlas.write("relief_points", relief_points(2))
    before = atlas_digest(atlas)
    bad = relief_points(2)
    bad.loc[0, "kind"] = "hotel"
    with pytest.raises(ValidationError) as info:
        atlas.write("relief_points", bad)
    assert info.value.problems[0].row == 1 and info.value.problems[0].field == "kind"
    assert atlas_digest(atlas) == before


def test_failure_mid_write_leaves_the_atlas_exactly_as_before(atlas, monkeypatch):
    atlas.write("relief_points", relief_points(3))
    before = atlas_digest(atlas)
    real_write = type(atlas.store).write_data

    def write_then_crash(*args, **kwargs):
        real_write(*args, **kwargs)  # the new rows really land (working copy / open transaction) ...
        raise OSError("disk full")  # ... and then the write fails

    monkeypatch.setattr(type(atlas.store), "write_data", write_then_crash)
    with pytest.raises(OSError, match="disk full"):
        atlas.write("relief_points", relief_points(5, start=10), mode="replace")
    monkeypatch.undo()
    assert atlas_digest(atlas) == before
    assert atlas.read("relief_points")["point_id"].tolist() == ["rp0", "rp1", "rp2"]
    if atlas.backend == "gpkg":
        assert not list(Path(atlas.location).parent.glob(".*.tmp.gpkg*")), "the working copy was left behind"


def test_failure_in_the_store_itself_leaves_the_atlas_as_before(atlas, monkeypatch):
    """A failure inside the store's own write (pyogrio for GeoPackage, COPY for PostGIS)."""
    atlas.write("relief_points", relief_points(3))
    before = atlas_digest(atlas)
    bad = relief_points(3, start=10)
    if atlas.backend == "gpkg":
        def crash(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(gpkg_store.pyogrio, "write_dataframe", crash)
    else:
        from placegeo.storage import postgis

        real = postgis._copy_values
        calls = []

        def crash_on_third_column(col, pg_type):  # the old rows are already deleted by then
            calls.append(col.name)
            if len(calls) == 3:
                raise OSError("connection lost")
            return real(col, pg_type)

        monkeypatch.setattr(postgis, "_copy_values", crash_on_third_column)
    with pytest.raises(OSError):
        atlas.write("relief_points", bad, mode="replace")
    monkeypatch.undo()
    assert atlas_digest(atlas) == before


def test_failure_inside_a_transaction_rolls_back_every_write(atlas):
    before = atlas_digest(atlas)
    with pytest.raises(RuntimeError), atlas.transaction():
        atlas.write("relief_points", relief_points(2))
        atlas.write("population_units", population_units())
        assert set(atlas.layers()) == {"relief_points", "population_units"}  # visible inside
        raise RuntimeError("stop")
    assert atlas_digest(atlas) == before
    assert atlas.layers() == []


def test_a_second_writer_is_told_to_wait(atlas):
    if atlas.backend == "gpkg":
        other = Atlas(atlas.location)
    else:
        from placegeo.storage.postgis import PostGISStore

        other = Atlas(store=PostGISStore(atlas.location, lock_wait_s=0.3))  # it waits that long for the first
    with atlas.transaction(), pytest.raises(AtlasError, match="another process"):
        other.write("relief_points", relief_points(1))
    other.write("relief_points", relief_points(1))  # and succeeds once the first is done
    assert atlas.count("relief_points") == 1


def test_missing_and_foreign_files_get_clear_errors(tmp_path):
    with pytest.raises(AtlasError, match="placegeo demo"):
        Atlas(tmp_path / "nope.gpkg")
    plain = tmp_path / "plain.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4326), plain)
    with pytest.raises(AtlasError, match="not a placegeo atlas"):
        Atlas(plain)
    with pytest.raises(AtlasError, match="already exists"):
        Atlas.create(plain)


def test_unknown_layer(atlas):
    with pytest.raises(LayerNotFoundError, match="not in atlas"):
        atlas.read("relief_points")


def test_summary_and_layer_info(atlas):
    g = relief_points(4)
    g["sample"] = [True, True, False, False]
    g["source"] = ["OpenStreetMap", "test", "test", "test"]
    atlas.write("relief_points", g, licence="ODbL-1.0")
    s = atlas.summary().set_index("layer").loc["relief_points"]
    assert s["features"] == 4 and s["sample_share"] == 0.5
    assert "© OpenStreetMap contributors" in s["attribution"]
    assert atlas.layer_info().set_index("name").loc["relief_points", "licence"] == "ODbL-1.0"


def test_codes_are_checked_on_write(atlas):
    g = relief_points(1)
    g["district_code"] = ["370199"]
    with pytest.raises(ValidationError, match="not in the atlas's code table"):
        atlas.write("relief_points", g)


def test_single_polygons_are_promoted_one_by_one(atlas):
    from shapely import box

    g = gpd.GeoDataFrame({"code": ["370102", "370103"], "name": ["历下区", "市中区"], "level": ["区", "区"],
                          "source": ["t", "t"]},
                         geometry=[box(117.0, 36.6, 117.01, 36.61), box(117.02, 36.6, 117.03, 36.61)], crs=4490)
    atlas.write("admin_units", g)
    back = atlas.read("admin_units")
    assert back.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]
    assert back.geometry.iloc[0].equals(g.geometry.iloc[0]) and back.geometry.iloc[1].equals(g.geometry.iloc[1])
    assert back["level"].tolist() == ["district", "district"]


def test_revision_changes_with_every_write_and_only_then(atlas):
    first = atlas.revision
    atlas.save_artifact("note", "派生数据".encode())  # derived data is kept with the atlas, not a change
    assert atlas.revision == first and atlas.load_artifact("note").decode() == "派生数据"
    atlas.write("relief_points", relief_points(2))
    second = atlas.revision
    assert second != first
    with pytest.raises(ValidationError), atlas.transaction():
        atlas.write("relief_points", relief_points(1).assign(kind="hotel"))
    assert atlas.revision == second  # a refused write changes nothing, the revision neither


def test_query_gives_a_page_and_the_number_matched(atlas):
    atlas.write("relief_points", relief_points(5))
    box = (117.0195, 36.65, 117.0225, 36.67)  # rp0, rp1, rp2
    page, matched = atlas.query("relief_points", bbox=box, limit=2, offset=1)
    assert matched == 3 and page["point_id"].tolist() == ["rp1", "rp2"]
    assert page["open_24h"].dtype == "boolean" and page.crs.to_epsg() == 4490
    page, matched = atlas.query("relief_points", bbox=box, limit=2, offset=10)
    assert matched == 3 and page.empty
    assert atlas.query("relief_points", limit=100)[1] == 5
    one, matched = atlas.query("relief_points", key="rp3")
    assert matched == 1 and one["name"].tolist() == ["避风港3"]
    assert atlas.query("relief_points", key="rp3' OR '1'='1")[1] == 0  # a key is a value, never SQL
    assert atlas.query("relief_points", key="rp3", bbox=box)[1] == 0


def test_append_to_a_layer_keeps_order_and_types(atlas):
    atlas.write("relief_points", relief_points(2))
    atlas.write("relief_points", relief_points(2, start=2), mode="append")
    back = atlas.read("relief_points")
    assert back["point_id"].tolist() == ["rp0", "rp1", "rp2", "rp3"]
    assert atlas.keys("relief_points").tolist() == ["rp0", "rp1", "rp2", "rp3"]
    assert back["open_24h"].dtype == "boolean"


def test_keys_added_by_another_writer_after_validation_are_caught_under_the_lock(atlas):
    from placegeo.registry import get_layer
    from placegeo.validate import validate_layer

    atlas.write("relief_points", relief_points(2))
    before = atlas_digest(atlas)
    # validated as if before another planner's import of rp1 landed (no stored keys to check against) ...
    data = validate_layer(relief_points(2, start=1), get_layer("relief_points")).data
    # ... the write, under the writers' lock, finds rp1 stored and writes nothing
    with pytest.raises(AtlasError, match=r"rp1.*another writer"):
        atlas.write("relief_points", data, mode="append", validate=False)
    assert atlas_digest(atlas) == before
