"""Import and export 100,000 points: placegeo against plain pandas + pyogrio, side by side.

Reference for import: read the same CSV with pandas, build points, write a GeoPackage with pyogrio
(arrow). placegeo: `Atlas.import_file` on the same CSV, appending to an atlas that holds the real
district polygons and 2,000 stored points — encoding detection, alias mapping, type conversion,
derivation (district_code by spatial join with the districts, open_24h and opening_hours from
the hours, kind from the layer's default), every validation rule (codes against the 5,935-code
tree, enums, patterns, extent, keys looked up in the atlas), the duplicate check (same or
near-same name within 50 m, in the file and against the stored points), the datum check, and an
atomic copy-on-write into the atlas. Export: `export_layer` against `pyogrio.write_dataframe`
for each format. Runs are interleaved (reference, placegeo, reference, …); medians and ratios
are printed.

    python benchmarks/bench_import_export.py [--rows 100000] [--repeat 3] [--import-only]

Target (issues 2 and 14): import within 1.5x the bare pyogrio write.
"""

from __future__ import annotations

import argparse
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

    def fresh_atlas():  # not timed: every import appends to the same starting atlas
        shutil.copyfile(tmp / "template.gpkg", atlas_path)

    def reference_import():
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]),
                               geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)),
                               crs="EPSG:4490")
        pyogrio.write_dataframe(gdf, tmp / "ref.gpkg", layer="relief_points", use_arrow=True,
                                layer_options={"OVERWRITE": "YES"})

    def placegeo_import():
        r = Atlas(atlas_path).import_file(csv, "relief_points", datum="cgcs2000", mode="append", strict=True)
        assert r.n_written == args.rows and len(r.derived) == 4 * args.rows, r.report

    rows = []
    ref, ours = interleaved(reference_import, placegeo_import, args.repeat, fresh_atlas)
    rows.append(("import CSV -> GeoPackage (derived, validated, deduplicated)", ref, ours))

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
    ratio = rows[0][2] / rows[0][1]
    print(f"import ratio {ratio:.2f} (target <= 1.5): {'met' if ratio <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
