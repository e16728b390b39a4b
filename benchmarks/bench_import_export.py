"""Import and export 100,000 points: placegeo against plain pandas + pyogrio, side by side.

References for import: read the same CSV with pandas, build points and (1) append them with pyogrio
(arrow) to a copy of the same atlas, which is the same work as ours, or (2) write them to a new
GeoPackage, which is less work (GDAL bulk-loads the rtree of a new layer; an append inserts into it).
placegeo: `Atlas.import_file` on the same CSV, appending to an atlas that holds the real
district polygons and 2,000 stored points — encoding detection, alias mapping, type conversion,
derivation (district_code by spatial join with the districts, open_24h and opening_hours from
the hours, kind from the layer's default), every validation rule (codes against the 5,935-code
tree, enums, patterns, extent, keys looked up in the atlas), the duplicate check (same or
near-same name within 50 m, in the file and against the stored points), the datum check, and an
in-place write into the atlas; timed once without and once with the place-name index kept in the
same transaction (issue 19), with placegeo's caches emptied before every run. Export:
`export_layer` against `pyogrio.write_dataframe` for each format. Runs are interleaved (references,
placegeo, references, …); medians and ratios are printed.

    python benchmarks/bench_import_export.py [--rows 100000] [--repeat 3] [--import-only]

Target (issues 2 and 14): import within 1.5x the same append by pyogrio.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from placegeo.atlas import Atlas
from placegeo.demo import load_code_tree, load_districts
from placegeo.export import export_layer

HOURS = ["08:00-20:00", "8:30-17:30", "24小时", "全天", "17:00-次日8:00", "周一至周五 9:00-17:00",
         "上午8:00-12:00 下午14:00-18:00", "工作日 8:30-17:30 节假日除外"]


def points_in(districts: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` lon/lat points inside the districts (sampled in their bounds, kept when inside)."""
    area = shapely.union_all(np.asarray(districts.geometry.values))
    minx, miny, maxx, maxy = area.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        xy = np.column_stack([rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)])
        out = np.vstack([out, xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]])
    return out[:n]


def make_csv(path: Path, districts: gpd.GeoDataFrame, n: int, seed: int = 1) -> None:
    """Points as a bureau list has them: no district codes, no open_24h, hours as people write them."""
    rng = np.random.default_rng(seed)
    xy = points_in(districts, n, rng)
    df = pd.DataFrame({
        "point_id": [f"P{i:06d}" for i in range(n)],
        "name": [f"避风港{i}" for i in range(n)],
        "host": rng.choice(["派出所", "便利店", "加油站"], n),
        "hours": rng.choice(HOURS, n),
        "phone": "0531-12345678",
        "lon": xy[:, 0].round(7),
        "lat": xy[:, 1].round(7),
        "source": "benchmark",
    })
    df.to_csv(path, index=False, encoding="utf-8")


def make_atlas(path: Path, districts: gpd.GeoDataFrame, n_stored: int = 2_000) -> None:
    """An atlas with the district polygons, the code tree and ``n_stored`` relief points already in it."""
    atlas = Atlas.create(path, extent=(116.1, 35.9, 118.1, 37.6))
    atlas.set_codes(load_code_tree())
    units = districts.assign(level="district", parent_code=None, source="benchmark")
    atlas.write("admin_units", units)
    xy = points_in(districts, n_stored, np.random.default_rng(7))
    atlas.write("relief_points", gpd.GeoDataFrame(
        {"point_id": [f"S{i:05d}" for i in range(n_stored)], "name": [f"已有避风港{i}" for i in range(n_stored)],
         "kind": "relief_point", "open_24h": True, "district_code": districts["code"].iloc[0], "source": "benchmark"},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:4490"))


def timed(fn, repeat: int, prepare=None) -> float:
    times = []
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved(ref, ours, repeat: int, prepare) -> tuple[float, float]:
    """Medians of ``ref`` and ``ours`` run alternately (so load on the machine hits both alike)."""
    r_times, o_times = [], []
    for _ in range(repeat):
        r_times.append(timed(ref, 1))
        o_times.append(timed(ours, 1, prepare))
    return statistics.median(r_times), statistics.median(o_times)


def interleaved3(new_file, append, ours, repeat: int, prepare) -> tuple[float, float, float]:
    """Medians of the two references and ours, run in turn (``append`` times itself: it copies first)."""
    times: list[list[float]] = [[], [], []]
    for _ in range(repeat):
        times[0].append(timed(new_file, 1))
        times[1].append(append())
        times[2].append(timed(ours, 1, prepare))
    return statistics.median(times[0]), statistics.median(times[1]), statistics.median(times[2])


#: placegeo's memo caches of per-text work (a name's key, pinyin, folded form; an hours string's parse)
PER_TEXT_CACHES = ["placegeo.search._key", "placegeo.search._latins", "placegeo.pinyin._convert_han",
                   "placegeo.pinyin.syllables", "placegeo.pinyin._readings", "placegeo.text.normalize",
                   "placegeo.duplicates._folded", "placegeo.hours._parse"]


def clear_caches() -> None:
    """Empty the per-text caches: a repeated run must not reuse the work done on the same names (the
    configuration read once per process, layer registry and code tree, stays read, as pyogrio stays imported)."""
    for dotted in PER_TEXT_CACHES:
        module, name = dotted.rsplit(".", 1)
        getattr(importlib.import_module(module), name).cache_clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--import-only", action="store_true", help="skip the exports")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="placegeo-bench-"))
    csv = tmp / "points.csv"
    districts = load_districts()
    make_csv(csv, districts, args.rows)
    make_atlas(tmp / "template.gpkg", districts)
    atlas_path = tmp / "atlas.gpkg"

    def fresh_atlas():  # not timed: every import appends to the same starting atlas, with cold caches
        shutil.copyfile(tmp / "template.gpkg", atlas_path)
        clear_caches()

    def read_points():
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        return gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]),
                                geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)),
                                crs="EPSG:4490")

    def reference_new_file():
        pyogrio.write_dataframe(read_points(), tmp / "ref.gpkg", layer="relief_points", use_arrow=True,
                                layer_options={"OVERWRITE": "YES"})

    def reference_append():  # the same work as ours: the rows appended to a copy of the same atlas
        shutil.copyfile(tmp / "template.gpkg", tmp / "ref-atlas.gpkg")
        t0 = time.perf_counter()
        pyogrio.write_dataframe(read_points(), tmp / "ref-atlas.gpkg", layer="relief_points", use_arrow=True,
                                append=True)
        return time.perf_counter() - t0

    def placegeo_import(*, index: bool = True):
        atlas = Atlas(atlas_path)
        if not index:
            atlas._index_names = lambda *a, **k: None  # type: ignore[method-assign]
        r = atlas.import_file(csv, "relief_points", datum="cgcs2000", mode="append", strict=True)
        assert r.n_written == args.rows and len(r.derived) == 4 * args.rows, r.report

    rows = []
    for label, ours_fn in [("import without the search index", lambda: placegeo_import(index=False)),
                           ("import with the search index (issue 19)", placegeo_import)]:
        new_file, append, ours = interleaved3(reference_new_file, reference_append, ours_fn, args.repeat,
                                              fresh_atlas)
        rows.append((f"{label}, vs pyogrio append to the atlas", append, ours))
        rows.append((f"{label}, vs pyogrio write of a new file", new_file, ours))

    layer = Atlas(atlas_path).read("relief_points")
    formats = [("gpkg", ".gpkg"), ("shp", ".shp.zip"), ("geojson", ".geojson"), ("csv", ".csv")]
    for fmt, ext in [] if args.import_only else formats:
        def ref_export(fmt=fmt):
            if fmt == "csv":
                t = pd.DataFrame(layer.drop(columns="geometry"))
                t["wkt"] = layer.geometry.to_wkt()
                t.to_csv(tmp / "ref.csv", index=False)
            else:
                driver = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON"}[fmt]
                target = tmp / ("ref_shp" if fmt == "shp" else f"ref.{fmt}")
                if fmt == "shp":
                    target.mkdir(exist_ok=True)
                    target = target / "ref.shp"
                pyogrio.write_dataframe(layer, target, driver=driver)

        def our_export(fmt=fmt, ext=ext):
            export_layer(layer, tmp / f"ours{ext}", fmt=fmt)

        rows.append((f"export {fmt}", *interleaved(ref_export, our_export, args.repeat, None)))

    print(f"{args.rows:,} points, median of {args.repeat} runs (seconds)")
    print(f"{'step':<60} {'reference':>10} {'placegeo':>10} {'ratio':>7}")
    for name, r, o in rows:
        print(f"{name:<60} {r:>10.3f} {o:>10.3f} {o / r:>7.2f}")
    for name, r, o in rows[:4:2]:
        verdict = "met" if o / r <= 1.5 else "NOT met"
        print(f"{name.split(',')[0]}: ratio {o / r:.2f} to the same append by pyogrio (target <= 1.5): {verdict}")


if __name__ == "__main__":
    main()
