"""Load the web map's search endpoint under gunicorn with wrk, beside a trivial endpoint, in one run.

Starts gunicorn (2 workers, the atlas and search index preloaded) on 127.0.0.1, then runs wrk
(Debian package ``wrk``) for a fixed time against ``/api/health`` (a trivial endpoint: what Flask and
gunicorn cost) and against ``/api/search`` with a rotating set of queries (characters, pinyin,
initials, typos, and 2,000 more drawn from the atlas's names). Prints requests per second, p99
latency, errors and the ratio. ``--cache 0`` measures without the per-worker answer cache.

    python benchmarks/bench_web.py [--atlas atlas.gpkg] [--seconds 10] [--connections 8]

Target (issue 7): at least 3,000 search requests per second on 2 cores, p99 under 10 ms, no errors.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atlas", default=None, help="atlas to serve (default: build the demo in a temp folder)")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--distinct", type=int, default=2000, help="distinct queries drawn from the atlas's names")
    ap.add_argument("--cache", type=int, default=4096, help="answers cached per worker (0: none)")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
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
