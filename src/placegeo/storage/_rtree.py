"""A GeoPackage layer's R*Tree bulk-loaded: the tree packed (sort-tile-recursive) and written straight
into SQLite's shadow tables, as GDAL does when it creates a layer.

SQLite inserts into an R*Tree one entry at a time, choosing a leaf, splitting and reinserting: about
15 µs an entry, most of a large append's cost. A packed tree of every entry, the stored ones read back
from the tree itself, is built in NumPy and written in a few statements. :func:`bulk_worthwhile` says
when that pays: when the rows added are many, and not few beside a large layer (an append must cost
what it adds).

The format is SQLite's (``ext/rtree/rtree.c``): node ``1`` is the root, whose first two bytes hold the
tree's depth; every node has a big-endian cell count, then cells of a 64-bit id and ``minx, maxx, miny,
maxy`` as big-endian 32-bit floats, rounded outwards as SQLite rounds them; ``_rowid`` maps each entry
to its leaf and ``_parent`` each node to its parent. ``rtreecheck()`` accepts the result (tests).
"""

from __future__ import annotations

import sqlite3

import numpy as np

from placegeo.storage._quote import q

__all__ = ["bulk_load", "bulk_worthwhile"]

_CELL = np.dtype([("id", ">i8"), ("box", ">f4", 4)])  # a 2-D cell: id, minx, maxx, miny, maxy
_BULK_MIN_ROWS = 1_000
# rebuild when the rows added are half of those stored or more: a packed tree costs 3–5.5 µs an entry,
# stored ones included, an insert 12–19 µs (measured from 40,000 to 400,000 points; even at a third)
_BULK_SHARE = 2
_DOWN, _AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0  # SQLite's RNDTOWARDS, RNDAWAY


def bulk_worthwhile(n_new: int, n_stored: int) -> bool:
    """Whether rebuilding the whole tree costs less than inserting ``n_new`` entries one by one.

    >>> bulk_worthwhile(100_000, 2_000), bulk_worthwhile(100_000, 1_000_000), bulk_worthwhile(500, 0)
    (True, False, False)
    """
    return n_new >= _BULK_MIN_ROWS and n_new * _BULK_SHARE >= n_stored


def _round_out(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """32-bit bounds holding the 64-bit ones, as SQLite's ``rtreeValueDown``/``rtreeValueUp`` make them."""
    lo32, hi32 = lo.astype(np.float32), hi.astype(np.float32)
    down = lo32 > lo
    lo32[down] = (lo[down] * np.where(lo[down] < 0, _AWAY, _DOWN)).astype(np.float32)
    up = hi32 < hi
    hi32[up] = (hi[up] * np.where(hi[up] < 0, _DOWN, _AWAY)).astype(np.float32)
    return lo32, hi32


def _str_groups(centre: np.ndarray, fanout: int) -> list[np.ndarray]:
    """Sort-tile-recursive: the items (rows of ``centre``) in groups of ``fanout``, near ones together."""
    n = len(centre)
    slices = int(np.ceil(np.sqrt(np.ceil(n / fanout))))
    by_x = np.argsort(centre[:, 0], kind="stable")
    groups: list[np.ndarray] = []
    for part in np.array_split(by_x, slices):
        part = part[np.argsort(centre[part, 1], kind="stable")]
        groups += [part[j:j + fanout] for j in range(0, len(part), fanout)]
    return groups


def _levels(ids: np.ndarray, boxes: np.ndarray, fanout: int) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Levels of the packed tree, leaves first: per node, its children's ids and boxes."""
    levels = []
    while True:
        centre = np.column_stack([(boxes[:, 0] + boxes[:, 1]) / 2, (boxes[:, 2] + boxes[:, 3]) / 2])
        nodes = [(ids[g], boxes[g]) for g in _str_groups(centre, fanout)] if len(ids) else [(ids, boxes)]
        levels.append(nodes)
        if len(nodes) == 1:
            return levels
        boxes = np.array([[b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max()] for _, b in nodes],
                         dtype=np.float32)
        ids = np.arange(len(nodes), dtype=np.int64)  # numbered below, once every level is known


def bulk_load(con: sqlite3.Connection, rtree: str, fids: np.ndarray, bounds: np.ndarray) -> bool:
    """Rebuild ``rtree`` (a GeoPackage layer's, ``id, minx, maxx, miny, maxy``) with its stored entries
    and new ones: ``fids`` and their ``bounds`` (minx, miny, maxx, maxy rows, float64). False, and
    nothing done, for a tree without its root node (the caller inserts one by one)."""
    root = con.execute(f"SELECT length(data) FROM {q(rtree + '_node')} WHERE nodeno = 1").fetchone()
    if not root or not root[0]:
        return False
    node_size = int(root[0])
    fanout = (node_size - 4) // _CELL.itemsize
    stored = np.array(con.execute(f"SELECT id, minx, maxx, miny, maxy FROM {q(rtree)}").fetchall(),
                      dtype=np.float64).reshape(-1, 5)
    lo_x, hi_x = _round_out(bounds[:, 0], bounds[:, 2])
    lo_y, hi_y = _round_out(bounds[:, 1], bounds[:, 3])
    ids = np.concatenate([stored[:, 0].astype(np.int64), np.asarray(fids, dtype=np.int64)])
    boxes = np.concatenate([stored[:, 1:].astype(np.float32), np.column_stack([lo_x, hi_x, lo_y, hi_y])])
    levels = _levels(ids, boxes, fanout)
    # node numbers: the root is 1, the rest follow level by level from the top
    numbers, nxt = [], 1
    for level in reversed(levels):
        numbers.append(np.arange(nxt, nxt + len(level), dtype=np.int64))
        nxt += len(level)
    numbers.reverse()
    depth = len(levels) - 1
    node_rows: list[tuple[int, bytes]] = []
    parent_rows: list[tuple[int, int]] = []
    rowid_rows: list[tuple[int, int]] = []
    for h, level in enumerate(levels):
        for j, (child, box) in enumerate(level):
            nodeno = int(numbers[h][j])
            cells = np.empty(len(child), dtype=_CELL)
            cells["id"] = child if h == 0 else numbers[h - 1][child]
            cells["box"] = box
            head = (depth if nodeno == 1 else 0).to_bytes(2, "big") + len(child).to_bytes(2, "big")
            node_rows.append((nodeno, (head + cells.tobytes()).ljust(node_size, b"\0")))
            if h == 0:
                rowid_rows += zip(child.tolist(), [nodeno] * len(child), strict=True)
            else:
                parent_rows += zip(cells["id"].tolist(), [nodeno] * len(child), strict=True)
    for suffix in ("_node", "_rowid", "_parent"):
        con.execute(f"DELETE FROM {q(rtree + suffix)}")
    con.executemany(f"INSERT INTO {q(rtree + '_node')} (nodeno, data) VALUES (?, ?)", node_rows)
    con.executemany(f"INSERT INTO {q(rtree + '_rowid')} (rowid, nodeno) VALUES (?, ?)", rowid_rows)
    con.executemany(f"INSERT INTO {q(rtree + '_parent')} (nodeno, parentnode) VALUES (?, ?)", parent_rows)
    return True
