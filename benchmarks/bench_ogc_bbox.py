"""OGC API items by bounding box on 1,000,000 points: PostGIS against GeoPackage, in one run.

Writes one layer of 1,000,000 sample points (half spread over Jinan, half clustered around the
old city, as facilities are) into a GeoPackage atlas and into a PostGIS atlas, serves each with
gunicorn (2 workers, as on the 2-core machine) and loads ``/collections/<layer>/items`` with wrk
(Debian package ``wrk``): every request a new random box of 0.5 to 5 km a side, ``limit=100``.
Prints requests per second, p99 latency, errors, the workers' memory, and the ratio.

How each back end answers: PostGIS runs one count and one page query in a read-only snapshot,
both on the GiST index; the GeoPackage path reads the whole layer into each worker once and
answers from an in-memory STRtree (fast per request, but every worker holds the layer: see the
memory column).

    python benchmarks/bench_ogc_bbox.py --postgis postgresql://postgres@127.0.0.1:55432/placegeo_test
    [--points 1000000] [--seconds 15] [--connections 8]

``make bench`` starts the throwaway PostGIS (``.ci/start-postgis``) and runs this.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_web import gunicorn, wrk

LAYER = "relief_points"
EXTENT = (116.35, 36.2, 117.75, 37.05)  # where the points lie (Jinan's main districts)
LUA = """
math.randomseed(%(seed)d)
request = function()
  local w = 0.005 + math.random() * 0.045
  local x = %(minx)f + math.random() * (%(maxx)f - %(minx)f - w)
  local y = %(miny)f + math.random() * (%(maxy)f - %(miny)f - w)
  return wrk.format("GET", string.format("/collections/%(layer)s/items?limit=100&bbox=%%.5f,%%.5f,%%.5f,%%.5f",
                                         x, y, x + w, y + w))
end
"""


def sample_points(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    half = n // 2
    minx, miny, maxx, maxy = EXTENT
    lon = np.concatenate([rng.uniform(minx, maxx, half), np.clip(rng.normal(117.02, 0.08, n - half), minx, maxx)])
    lat = np.concatenate([rng.uniform(miny, maxy, half), np.clip(rng.normal(36.66, 0.06, n - half), miny, maxy)])
    ids = np.char.add("bp", np.arange(n).astype(str))
    return gpd.GeoDataFrame({
        "point_id": ids, "name": np.char.add("样例救助点", np.arange(n).astype(str)),
        "kind": "relief_point", "host": None, "open_24h": rng.random(n) < 0.3, "hours": None, "phone": None,
        "district_code": "370102", "source": "sample: benchmark points", "sample": True,
    }, geometry=gpd.points_from_xy(lon, lat), crs=4490)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the gunicorn workers), in MB."""
    total = 0.0
    pids = [pid]
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    pids += [int(p) for p in children.split()]
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        m = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(m.group(1)) / 1024 if m else 0
    return total


def serve_and_load(location: str, args, tmp: Path) -> dict[str, float]:
    env = {**os.environ, "PLACEGEO_ATLAS": location, "PLACEGEO_EXPORT_DIR": str(tmp / "exports"),
           "PLACEGEO_MAX_ITEMS": "1000"}
    with gunicorn(env) as (base, pid):
        # warm up every worker (a GeoPackage worker reads the layer on its first request)
        warm = f"{base}/collections/{LAYER}/items?limit=5&bbox=117.0,36.6,117.05,36.65"
        procs = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "--max-time", "300", warm]) for _ in range(8)]
        for p in procs:
            p.wait()
        script = tmp / "bbox.lua"
        minx, miny, maxx, maxy = EXTENT
        script.write_text(LUA % {"seed": 42, "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy,
                                 "layer": LAYER})
        result = wrk(base, args.seconds, args.connections, str(script))
        result["rss_mb"] = rss_mb(pid)
        return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgis", required=True, help="postgresql:// URL of a database with PostGIS (a schema is "
                                                      "made for the run and dropped after)")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    for tool in ("wrk", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install {tool}")
    from placegeo.atlas import Atlas, copy_atlas

    tmp = Path(tempfile.mkdtemp(prefix="placegeo-ogc-"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    pg_url = f"{args.postgis}{'&' if '?' in args.postgis else '?'}schema={schema}"
    pg = None
    try:
        t = time.perf_counter()
        pts = sample_points(args.points)
        gpkg = Atlas.create(tmp / "bench.gpkg", name="benchmark", extent=(115.5, 35.5, 118.5, 38.0))
        gpkg.write(LAYER, pts, validate=False)
        t_gpkg = time.perf_counter() - t
        t = time.perf_counter()
        pg = copy_atlas(gpkg, pg_url)
        t_pg = time.perf_counter() - t
        print(f"{args.points:,} points: GeoPackage written in {t_gpkg:.1f} s (with generation), "
              f"copied to PostGIS in {t_pg:.1f} s")
        results = {"GeoPackage": serve_and_load(str(gpkg.location), args, tmp),
                   "PostGIS": serve_and_load(pg.location, args, tmp)}
    finally:
        if pg is not None:
            import psycopg
            from psycopg import sql

            from placegeo.storage.postgis import split_url

            pg.close()
            with psycopg.connect(split_url(pg_url)[0], autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"gunicorn 2 workers, {os.cpu_count()} cores shared with wrk ({args.connections} connections, "
          f"{args.seconds} s each); random boxes of 0.5-5 km, limit=100")
    print(f"{'back end':<12} {'req/s':>8} {'p99 ms':>8} {'errors':>7} {'server MB':>10}")
    for name, r in results.items():
        print(f"{name:<12} {r['rps']:>8,.0f} {r['p99_ms']:>8.1f} {r['errors']:>7} {r['rss_mb']:>10,.0f}")
    g, p = results["GeoPackage"], results["PostGIS"]
    print(f"PostGIS / GeoPackage: throughput {p['rps'] / g['rps']:.2f}, p99 {p['p99_ms'] / g['p99_ms']:.2f}, "
          f"server memory {p['rss_mb'] / g['rss_mb']:.2f}")


if __name__ == "__main__":
    main()
