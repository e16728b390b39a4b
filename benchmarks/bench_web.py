"""Load the web map's search endpoint under gunicorn: idle, and while imports repeat; and with wrk.

Starts gunicorn (2 workers, the atlas and search index preloaded) on 127.0.0.1.

1. Search while imports repeat (issue 18): a threaded Python client asks ``/api/search`` with more
   distinct queries (2,000 drawn from the atlas's names) than the answer cache holds (``--cache``, 256
   by default), so the headline is uncached search. Rounds alternate: idle, then with a loop that
   imports into the atlas back to back (each import a new revision, which every worker must take up).
   Prints requests per second, p50 and p99 of each round, medians and the ratio.
   Target: under imports at least half the idle throughput, p99 under 100 ms, no errors.
2. Vector tiles beside the GeoJSON items of the same boxes (every page), over HTTP, on the largest
   collection served, at zoom 10, 12 and 14 (``bench_tiles.py`` does the same in-process on 200,000
   points and on PostGIS).
3. With wrk (Debian package ``wrk``; skipped when missing): ``/api/health`` (what Flask and gunicorn
   cost) beside ``/api/search``. Target (issue 7): 3,000 search requests per second, p99 under 10 ms.

    python benchmarks/bench_web.py [--atlas atlas.gpkg] [--seconds 10] [--connections 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

QUERIES = ["frj", "dmh", "趵突泉", "baotuquan", "芙容街", "長清", "泉", "luokou", "历水陂", "jfg", "芙rj", "大明"]


def query_mix(atlas, n: int = 2000) -> list[str]:
    """The fixed queries and n more from the atlas's names: whole, prefixes, pinyin, initials."""
    import numpy as np

    from placegeo.search import SearchIndex, _latin

    idx = SearchIndex.for_atlas(atlas)
    rng = np.random.default_rng(1)
    names = [idx.records[i].name for i in rng.choice(len(idx.records), n, replace=False)]
    out = list(QUERIES)
    for k, name in enumerate(names):
        full, initials = _latin(name)
        out.append([name, name[: max(1, len(name) - 1)], full, initials][k % 4] or name)
    return out
LUA = """
local queries = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/search?limit=10&q=" .. queries[(i %% #queries) + 1])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2):
    """gunicorn serving the web map on a free loopback port, the atlas preloaded; yields the base URL."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "--preload", "-b",
                               f"127.0.0.1:{port}", "--timeout", "300", "--log-level", "warning",
                               "placegeo.web:create_app()"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def wrk(url: str, seconds: int, connections: int, script: str | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale,
            "errors": errors + (int(non2xx.group(1)) if non2xx else 0)}


def client_load(base: str, queries: list[str], seconds: float, connections: int) -> dict[str, float]:
    """``connections`` threads asking search queries in rotation for ``seconds``: req/s, p50, p99, errors."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.monotonic() + seconds

    def run(k: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        i = k * 7919
        while time.monotonic() < deadline:
            path = "/api/search?limit=10&q=" + urllib.parse.quote(queries[i % len(queries)])
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
            latencies[k].append(time.perf_counter() - t0)
            errors[k] += not ok
        conn.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    import numpy as np

    all_ms = np.array([x for lat in latencies for x in lat]) * 1000
    return {"rps": len(all_ms) / elapsed, "p50_ms": float(np.percentile(all_ms, 50)),
            "p99_ms": float(np.percentile(all_ms, 99)), "errors": sum(errors)}


_IMPORT_LOOP = """
import sys
from pathlib import Path
from placegeo.atlas import Atlas
atlas, files, stop = Atlas(sys.argv[1]), sys.argv[2:4], Path(sys.argv[4])
done = 0
while not stop.exists():
    atlas.import_file(files[done % 2], "relief_points", mode="replace", datum="wgs84")
    done += 1
    print(done, flush=True)
"""


@contextlib.contextmanager
def importing(atlas_location: str, folder: Path):
    """Imports into the atlas back to back (two versions of a point layer in turn) until the block ends.

    In a process of their own, as ``placegeo import`` runs: in a thread of this process they would
    also take the load client's interpreter lock, and the client's slowdown would count as the server's.
    """
    files = []
    for tag, n in (("a", 120), ("b", 150)):
        lines = ["point_id,name,kind,open_24h,district_code,lon,lat"]
        lines += [f"{tag}{i},避风港{tag}{i},泉城避风港,是,370102,{117.0 + 0.0005 * i:.6f},{36.65 + 0.0003 * i:.6f}"
                  for i in range(n)]
        path = folder / f"import-{tag}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    stop = folder / "stop-importing"
    stop.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", _IMPORT_LOOP, atlas_location, *map(str, files), str(stop)],
                            stdout=subprocess.PIPE, text=True)
    done = [0]
    try:
        yield done
    finally:
        stop.touch()  # the loop ends after the import under way: each import is whole or not at all
        out, _ = proc.communicate(timeout=300)
        done[0] = int(out.split()[-1]) if out.strip() else 0  # the loop prints its count after each import
        if proc.returncode:
            raise SystemExit(f"the import loop failed with exit status {proc.returncode}")


def imports_benchmark(base: str, atlas: str, queries: list[str], args, folder: Path) -> None:
    import statistics

    rounds: dict[str, list[dict[str, float]]] = {"idle": [], "imports": []}
    imports = 0
    for _ in range(args.rounds):  # interleaved: idle, imports, idle, imports, ...
        rounds["idle"].append(client_load(base, queries, args.seconds, args.connections))
        with importing(atlas, folder) as done:
            rounds["imports"].append(client_load(base, queries, args.seconds, args.connections))
        imports += done[0]
    print(f"uncached search (distinct queries {len(queries):,} > answer cache {args.cache} per worker), "
          f"{args.connections} client threads, {args.rounds} rounds of {args.seconds} s each, interleaved; "
          f"{imports} imports during the import rounds")
    print(f"{'round':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, runs in rounds.items():
        for r in runs:
            print(f"{name:<10} {r['rps']:>8,.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>7}")
    med = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for name, runs in rounds.items()}
    ratio = med["imports"]["rps"] / med["idle"]["rps"]
    print(f"median idle: {med['idle']['rps']:,.0f} req/s, p99 {med['idle']['p99_ms']:.1f} ms; "
          f"under imports: {med['imports']['rps']:,.0f} req/s, p99 {med['imports']['p99_ms']:.1f} ms; "
          f"throughput ratio {ratio:.2f}")
    errors = sum(r["errors"] for runs in rounds.values() for r in runs)
    ok = ratio >= 0.5 and med["imports"]["p99_ms"] < 100 and errors == 0
    print(f"target (under imports >= half the idle throughput, p99 < 100 ms, no errors): {'met' if ok else 'NOT met'}")


def tiles_benchmark(base: str, atlas_location: str, boxes: int) -> None:
    """Vector tiles beside the GeoJSON items of the same boxes (all pages), over HTTP, interleaved."""
    import json

    import numpy as np
    import shapely

    from bench_tiles import compare, tile_of
    from placegeo.atlas import Atlas

    def get(path: str) -> bytes:
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            return resp.read()

    served = {c["id"] for c in json.loads(get("/collections"))["collections"]}
    info = Atlas(atlas_location).layer_info()
    info = info[info["name"].isin(served)].sort_values("feature_count", ascending=False)
    layer = str(info["name"].iloc[0])
    xy = shapely.get_coordinates(Atlas(atlas_location).read(layer).geometry.representative_point().values)
    picked = xy[np.random.default_rng(18).choice(len(xy), boxes)]
    tiles = []
    for z in (10, 12, 14):
        x, y = tile_of(z, picked[:, 0], picked[:, 1])
        tiles += [(z, int(a), int(b)) for a, b in zip(x, y, strict=True)]
    compare(get, layer, tiles, f"vector tiles beside GeoJSON items for the same boxes: {layer} "
            f"({int(info['feature_count'].iloc[0]):,} features), {boxes} boxes per zoom around random features, "
            "over HTTP, interleaved; medians", limit=1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atlas", default=None, help="atlas to serve (default: build the demo in a temp folder)")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--distinct", type=int, default=2000, help="distinct queries drawn from the atlas's names")
    ap.add_argument("--cache", type=int, default=256, help="answers cached per worker (0: none)")
    ap.add_argument("--rounds", type=int, default=2, help="idle and import rounds, interleaved")
    ap.add_argument("--boxes", type=int, default=20, help="tile boxes per zoom level in the tiles section")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="placegeo-web-"))
    atlas = args.atlas
    if atlas is None:
        from placegeo.demo import build_demo_atlas

        atlas = str(build_demo_atlas(tmp / "atlas.gpkg").location)
    from placegeo.atlas import Atlas
    from placegeo.search import SearchIndex

    SearchIndex.for_atlas(Atlas(atlas))  # build and save the index before the workers load it
    queries = query_mix(Atlas(atlas), args.distinct)
    env = {**os.environ, "PLACEGEO_ATLAS": atlas, "PLACEGEO_EXPORT_DIR": str(tmp / "exports"),
           "PLACEGEO_SEARCH_CACHE": str(args.cache)}
    with gunicorn(env) as (base, _pid):
        for q in QUERIES:  # warm up and check every query answers
            urllib.request.urlopen(base + "/api/search?q=" + urllib.parse.quote(q), timeout=5)
        imports_benchmark(base, atlas, queries, args, tmp)
        tiles_benchmark(base, atlas, args.boxes)
        if shutil.which("wrk") is None:
            print("wrk is missing (apt-get install wrk): the wrk comparison with /api/health is skipped")
            return
        script = tmp / "search.lua"
        script.write_text(LUA % ", ".join(f'"{urllib.parse.quote(q)}"' for q in queries), encoding="utf-8")
        trivial = wrk(base + "/api/health", args.seconds, args.connections)
        search = wrk(base, args.seconds, args.connections, str(script))
    print(f"gunicorn, 2 workers, {os.cpu_count()} cores, wrk {args.connections} connections, {args.seconds} s each; "
          f"{len(queries):,} distinct search queries in rotation, answer cache {args.cache} per worker")
    print(f"{'endpoint':<14} {'req/s':>9} {'p99 ms':>8} {'errors':>7}")
    for name, r in (("trivial", trivial), ("search", search)):
        print(f"{name:<14} {r['rps']:>9,.0f} {r['p99_ms']:>8.2f} {r['errors']:>7}")
    print(f"search / trivial throughput: {search['rps'] / trivial['rps']:.2f}")
    ok = search["rps"] >= 3000 and search["p99_ms"] < 10 and search["errors"] == 0
    print(f"target (>= 3,000 req/s, p99 < 10 ms, no errors): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    import urllib.parse

    main()
