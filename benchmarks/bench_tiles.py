"""Vector tiles against GeoJSON items for the same boxes, on a large point layer and a polygon layer.

Writes a layer of sample points (half spread over Jinan, half clustered around the old city, as
``bench_ogc_bbox.py`` does) into a GeoPackage atlas (and, with ``--postgis``, into a PostGIS atlas),
picks random WebMercatorQuad tiles at zoom levels 10 to 15 where the points lie, and asks the app,
in-process (Flask's test client: no HTTP, one thread), for each box twice, interleaved:

- the tile ``/collections/<layer>/tiles/WebMercatorQuad/{z}/{y}/{x}`` (Mapbox vector tile), and
- the GeoJSON items of the same box ``/collections/<layer>/items?bbox=...&limit=5000`` (all pages),
  the strongest alternative the API has for drawing the same area.

Prints, per back end and zoom, the median time of each answer, answers per second, median bytes
and the ratio (items time / tile time). A tile holds at most one point per 4 x 4 pixels; the items
hold every feature: the tile is what a map needs, the items are what a GIS needs.

    python benchmarks/bench_tiles.py [--points 200000] [--boxes 20]
                                     [--postgis postgresql://postgres@127.0.0.1:55432/placegeo_test]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ogc_bbox import EXTENT, LAYER, sample_points

ZOOMS = (10, 12, 13, 15)


def tile_of(z: int, lon, lat) -> tuple:
    """The WebMercatorQuad column and row holding each point (arrays in, integer arrays out)."""
    lat_r = np.radians(lat)
    x = (np.asarray(lon) + 180) / 360 * 2**z
    y = (1 - np.log(np.tan(lat_r) + 1 / np.cos(lat_r)) / np.pi) / 2 * 2**z
    return np.asarray(x).astype(int), np.asarray(y).astype(int)


def tiles_over_points(n: int, zooms=ZOOMS, seed: int = 11) -> list[tuple[int, int, int]]:
    """``n`` random tiles per zoom whose centre lies in the points' extent (clustered near the old city)."""
    rng = np.random.default_rng(seed)
    out = []
    for z in zooms:
        lon = np.clip(rng.normal(117.02, 0.1, n), EXTENT[0], EXTENT[2])
        lat = np.clip(rng.normal(36.66, 0.08, n), EXTENT[1], EXTENT[3])
        x, y = tile_of(z, lon, lat)
        out += [(z, int(a), int(b)) for a, b in zip(x, y, strict=True)]
    return out


def items_of_box(get, layer: str, box: tuple[float, float, float, float], limit: int) -> tuple[int, int]:
    """All GeoJSON pages of a box, each fetched by ``get(path) -> bytes``: (bytes, features)."""
    path: str | None = (f"/collections/{layer}/items?limit={limit}&bbox="
                        f"{box[0]:.7f},{box[1]:.7f},{box[2]:.7f},{box[3]:.7f}")
    size = count = 0
    while path:
        body = get(path)
        doc = json.loads(body)
        size += len(body)
        count += len(doc["features"])
        nxt = next((urlsplit(link["href"]) for link in doc["links"] if link["rel"] == "next"), None)
        path = f"{nxt.path}?{nxt.query}" if nxt else None  # absolute or root-relative links alike
    return size, count


def compare(get, layer: str, tiles: list[tuple[int, int, int]], label: str, *, limit: int) -> None:
    """Each tile and the GeoJSON items of its box, interleaved (alternating first); a table of medians."""
    from placegeo.tiles import tile_bounds_lonlat

    rows: dict[int, dict[str, list[float]]] = {}
    for z, x, y in tiles:
        r = rows.setdefault(z, {"tile_s": [], "items_s": [], "tile_b": [], "items_b": [], "items_n": []})
        for kind in ("tile", "items") if (x + y) % 2 else ("items", "tile"):
            t = time.perf_counter()
            if kind == "tile":
                body = get(f"/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}")
                r["tile_s"].append(time.perf_counter() - t)
                r["tile_b"].append(len(body))
            else:
                size, count = items_of_box(get, layer, tile_bounds_lonlat(z, x, y), limit)
                r["items_s"].append(time.perf_counter() - t)
                r["items_b"].append(size)
                r["items_n"].append(count)
    print(f"\n{label}")
    print(f"{'zoom':>4} {'features':>9} {'tile ms':>8} {'tiles/s':>8} {'tile KB':>8} "
          f"{'items ms':>9} {'items/s':>8} {'items KB':>9} {'ratio':>6}")
    for z, r in sorted(rows.items()):
        tile_ms, items_ms = statistics.median(r["tile_s"]) * 1000, statistics.median(r["items_s"]) * 1000
        print(f"{z:>4} {statistics.median(r['items_n']):>9.0f} {tile_ms:>8.1f} {1000 / tile_ms:>8.1f} "
              f"{statistics.median(r['tile_b']) / 1024:>8.1f} {items_ms:>9.1f} {1000 / items_ms:>8.1f} "
              f"{statistics.median(r['items_b']) / 1024:>9.1f} {items_ms / tile_ms:>6.1f}")


def run(location: str, tiles: list[tuple[int, int, int]], label: str) -> None:
    from placegeo.web import create_app

    client = create_app({"atlas": location, "max_items": 5000}).test_client()
    client.get(f"/collections/{LAYER}/items?limit=1")  # the GeoPackage worker reads its copy of the layer once
    compare(lambda path: client.get(path).data, LAYER, tiles, label, limit=5000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=200_000)
    ap.add_argument("--boxes", type=int, default=20, help="tiles per zoom level")
    ap.add_argument("--postgis", default="", help="also run on a PostGIS atlas at this URL")
    args = ap.parse_args()
    from placegeo.atlas import Atlas, copy_atlas

    tmp = Path(tempfile.mkdtemp(prefix="placegeo-tiles-"))
    gpkg = Atlas.create(tmp / "bench.gpkg", name="benchmark", extent=(115.5, 35.5, 118.5, 38.0))
    gpkg.write(LAYER, sample_points(args.points), validate=False)
    tiles = tiles_over_points(args.boxes)
    print(f"{args.points:,} points, {args.boxes} tiles per zoom; medians; ratio = items time / tile time")
    run(str(gpkg.location), tiles, "GeoPackage (tiles encoded in Python from the held layer's STRtree)")
    if args.postgis:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        url = f"{args.postgis}{'&' if '?' in args.postgis else '?'}schema={schema}"
        pg = copy_atlas(gpkg, url)
        try:
            run(pg.location, tiles, "PostGIS (ST_AsMVT)")
        finally:
            import psycopg
            from psycopg import sql

            from placegeo.storage.postgis import split_url

            pg.close()
            with psycopg.connect(split_url(url)[0], autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    main()
