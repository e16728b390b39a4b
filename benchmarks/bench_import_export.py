"""Import and export 100,000 points: placegeo against plain pandas + pyogrio, side by side.

Reference for import: read the same CSV with pandas, build points, write a GeoPackage with pyogrio
(arrow). placegeo: `Atlas.import_file` on the same CSV — encoding detection, alias mapping, type
conversion, every validation rule (codes against the 5,935-code tree, enums, patterns, extent,
duplicate keys) and an atomic copy-on-write into an atlas. Export: `export_layer` against
`pyogrio.write_dataframe` for each format. Each step runs REPEAT times; medians and ratios are printed.

    python benchmarks/bench_import_export.py [--rows 100000] [--repeat 3]

Target (issue 2): import within 1.5x the bare pyogrio write.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from placegeo.atlas import Atlas
from placegeo.demo import load_code_tree
from placegeo.export import export_layer


def make_csv(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    codes = load_code_tree()
    districts = codes.loc[codes["level"] == "district", "code"].to_numpy()
    df = pd.DataFrame({
        "point_id": [f"P{i:06d}" for i in range(n)],
        "name": [f"避风港{i}" for i in range(n)],
        "kind": rng.choice(["泉城避风港", "relief_point"], n),
        "host": rng.choice(["派出所", "便利店", "加油站"], n),
        "open_24h": rng.choice(["是", "否"], n),
        "hours": "08:00-20:00",
        "phone": "0531-12345678",
        "district_code": rng.choice(districts, n),
        "lon": rng.uniform(116.3, 117.9, n).round(7),
        "lat": rng.uniform(36.1, 37.4, n).round(7),
        "source": "benchmark",
    })
    df.to_csv(path, index=False, encoding="utf-8")


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="placegeo-bench-"))
    csv = tmp / "points.csv"
    make_csv(csv, args.rows)
    atlas = Atlas.create(tmp / "atlas.gpkg", extent=(116.1, 35.9, 118.1, 37.6))
    atlas.set_codes(load_code_tree())

    def reference_import():
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]),
                               geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)),
                               crs="EPSG:4490")
        pyogrio.write_dataframe(gdf, tmp / "ref.gpkg", layer="relief_points", use_arrow=True,
                                layer_options={"OVERWRITE": "YES"})

    def placegeo_import():
        r = atlas.import_file(csv, "relief_points", datum="cgcs2000", mode="replace", strict=True)
        assert r.n_written == args.rows

    rows = []
    ref = timed(reference_import, args.repeat)
    ours = timed(placegeo_import, args.repeat)
    rows.append(("import CSV -> GeoPackage (validated, atomic)", ref, ours))

    layer = atlas.read("relief_points")
    for fmt, ext in [("gpkg", ".gpkg"), ("shp", ".shp.zip"), ("geojson", ".geojson"), ("csv", ".csv")]:
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

        rows.append((f"export {fmt}", timed(ref_export, args.repeat), timed(our_export, args.repeat)))

    print(f"{args.rows:,} points, median of {args.repeat} runs (seconds)")
    print(f"{'step':<46} {'reference':>10} {'placegeo':>10} {'ratio':>7}")
    for name, r, o in rows:
        print(f"{name:<46} {r:>10.3f} {o:>10.3f} {o / r:>7.2f}")
    ratio = rows[0][2] / rows[0][1]
    print(f"import ratio {ratio:.2f} (target <= 1.5): {'met' if ratio <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
