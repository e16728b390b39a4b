"""GeoPackage layers handled with plain SQLite: geometry blobs, the rtree's SQL functions, layer tables.

GDAL (through pyogrio) writes a replaced layer; everything that must join a transaction on one
SQLite connection is done here instead: rows appended in place, a layer moved aside (renamed,
O(1)) to keep the previous revision, a layer copied in from the file GDAL wrote, a key index.

The rtree triggers GDAL puts on every layer call ``ST_IsEmpty``, ``ST_MinX`` … ; SQLite knows
them only once :func:`register_functions` has given them to a connection.
"""

from __future__ import annotations

import sqlite3
import struct
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placegeo.storage._quote import q
from placegeo.storage._rtree import bulk_load, bulk_worthwhile

__all__ = ["append_rows", "drop_layer", "encode_geometries", "install_layer", "key_index", "layer_exists",
           "layer_schema", "move_layer", "put_records", "q", "register_functions", "restore_layer"]

#: The GeoPackage tables that describe a layer by its name (each has a ``table_name`` column).
LAYER_META_TABLES = ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents")
_SRS_ID = 4490
_HEADER_NO_ENVELOPE = b"GP\x00\x01" + struct.pack("<i", _SRS_ID)
_HEADER_ENVELOPE = b"GP\x00\x03" + struct.pack("<i", _SRS_ID)
_HEADER_EMPTY = b"GP\x00\x11" + struct.pack("<i", _SRS_ID)


# -- geometry blobs ------------------------------------------------------------------------------------
def encode_geometries(geoms: np.ndarray) -> list[bytes | None]:
    """Shapely geometries as GeoPackage blobs (SRS 4490, little-endian WKB), as GDAL writes them.

    Points carry no envelope, other geometries an XY one; a missing geometry is None.

    >>> blob = encode_geometries(np.array([shapely.Point(117.0, 36.6)]))[0]
    >>> blob[:2], _envelope(blob)
    (b'GP', (117.0, 117.0, 36.6, 36.6))
    """
    geoms = np.asarray(geoms, dtype=object)
    wkb = shapely.to_wkb(geoms, byte_order=1)
    bounds = shapely.bounds(geoms)
    points = shapely.get_type_id(geoms) == 0
    empty = shapely.is_empty(geoms)
    out: list[bytes | None] = []
    for i, w in enumerate(wkb.tolist()):
        if w is None:
            out.append(None)
        elif empty[i]:
            out.append(_HEADER_EMPTY + w)
        elif points[i]:
            out.append(_HEADER_NO_ENVELOPE + w)
        else:
            minx, miny, maxx, maxy = bounds[i]
            out.append(_HEADER_ENVELOPE + struct.pack("<4d", minx, maxx, miny, maxy) + w)
    return out


_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage blob, from its header or else its WKB; None if empty."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0x10:
        return None
    n = _ENVELOPE_DOUBLES.get((flags >> 1) & 0x07, 0)
    order = "<" if flags & 0x01 else ">"
    if n:
        minx, maxx, miny, maxy = struct.unpack(order + "4d", blob[8:40])
        return minx, maxx, miny, maxy
    geom = shapely.from_wkb(bytes(blob[8:]))
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    if minx != minx:  # GDAL writes an empty point as POINT(NaN NaN)
        return None
    return minx, maxx, miny, maxy


def _st(i: int):
    def fn(blob: bytes | None) -> float | None:
        env = _envelope(blob)
        return None if env is None else env[i]
    return fn


def register_functions(con: sqlite3.Connection) -> None:
    """Give a connection the SQL functions GDAL's rtree triggers call."""
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, _st(i), deterministic=True)
    con.create_function("ST_IsEmpty", 1, lambda b: None if b is None else int(_envelope(b) is None),
                        deterministic=True)


# -- layer tables --------------------------------------------------------------------------------------
def layer_exists(con: sqlite3.Connection, name: str) -> bool:
    return con.execute("SELECT 1 FROM gpkg_contents WHERE table_name = ?", (name,)).fetchone() is not None


def _rtree_names(con: sqlite3.Connection, name: str) -> list[str]:
    return [f"rtree_{name}_{r[0]}" for r in con.execute(
        "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,))]


def _meta_tables(con: sqlite3.Connection) -> list[str]:
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [t for t in LAYER_META_TABLES if t in have]


def layer_schema(con: sqlite3.Connection, name: str) -> dict[str, Any]:
    """What describes a layer besides its rows: its triggers and indexes (SQL) and its GeoPackage records."""
    sqls = [r[0] for r in con.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('trigger', 'index') AND sql IS NOT NULL "
        "ORDER BY type = 'trigger', rowid", (name,))]
    records = {}
    for table in _meta_tables(con):
        cur = con.execute(f"SELECT * FROM {table} WHERE table_name = ?", (name,))
        records[table] = [list(r) for r in cur.fetchall()]
    return {"sql": sqls, "records": records, "rtree": _rtree_names(con, name)}


def _drop_attached(con: sqlite3.Connection, name: str) -> None:
    for kind, obj in con.execute("SELECT type, name FROM sqlite_master WHERE tbl_name = ? AND type IN "
                                 "('trigger', 'index') AND sql IS NOT NULL", (name,)).fetchall():
        con.execute(f"DROP {kind.upper()} {q(obj)}")
    for table in _meta_tables(con):
        con.execute(f"DELETE FROM {table} WHERE table_name = ?", (name,))


def move_layer(con: sqlite3.Connection, name: str, saved: str) -> dict[str, Any]:
    """Rename a layer (and its rtree) to ``saved``, out of the GeoPackage's sight; returns its schema.

    A rename costs the same for any size of layer: the previous revision is kept for nothing.
    """
    schema = layer_schema(con, name)
    _drop_attached(con, name)
    con.execute(f"ALTER TABLE {q(name)} RENAME TO {q(saved)}")
    schema["saved_rtree"] = []
    for i, rtree in enumerate(schema["rtree"]):
        con.execute(f"ALTER TABLE {q(rtree)} RENAME TO {q(f'{saved}_rtree{i}')}")
        schema["saved_rtree"].append(f"{saved}_rtree{i}")
    return schema


def drop_layer(con: sqlite3.Connection, name: str) -> None:
    rtrees = _rtree_names(con, name)
    _drop_attached(con, name)
    con.execute(f"DROP TABLE IF EXISTS {q(name)}")
    for rtree in rtrees:
        con.execute(f"DROP TABLE IF EXISTS {q(rtree)}")


def drop_saved(con: sqlite3.Connection, saved: str, schema: dict[str, Any]) -> None:
    con.execute(f"DROP TABLE IF EXISTS {q(saved)}")
    for rtree in schema.get("saved_rtree", []):
        con.execute(f"DROP TABLE IF EXISTS {q(rtree)}")


def restore_layer(con: sqlite3.Connection, name: str, saved: str, schema: dict[str, Any]) -> None:
    """Put a layer moved aside by :func:`move_layer` back, exactly as it was."""
    if layer_exists(con, name) or con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone():
        drop_layer(con, name)
    con.execute(f"ALTER TABLE {q(saved)} RENAME TO {q(name)}")
    for rtree, moved in zip(schema["rtree"], schema.get("saved_rtree", []), strict=True):
        con.execute(f"ALTER TABLE {q(moved)} RENAME TO {q(rtree)}")
    _put_schema(con, schema)


def _put_schema(con: sqlite3.Connection, schema: dict[str, Any]) -> None:
    for statement in schema["sql"]:
        con.execute(statement)
    put_records(con, schema)


def put_records(con: sqlite3.Connection, schema: dict[str, Any]) -> None:
    """Put a layer's GeoPackage records (contents, extent, feature count …) back as they were."""
    for table, rows in schema["records"].items():
        for row in rows:
            con.execute(f"INSERT OR REPLACE INTO {table} VALUES ({', '.join('?' * len(row))})", row)


def install_layer(con: sqlite3.Connection, src: sqlite3.Connection, name: str) -> None:
    """Copy layer ``name`` from the GeoPackage ``src`` (written by GDAL) into ``con``'s, in its transaction.

    The rows and the rtree are copied as they are (no trigger fires while copying), then the
    triggers and GeoPackage records are added, so the layer reads exactly as GDAL wrote it.
    """
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, sql in src.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN "
                                  f"({', '.join('?' * len(LAYER_META_TABLES))})", LAYER_META_TABLES):
        if table not in have:  # GDAL adds these on its first write to a file
            con.execute(sql)
    srs = src.execute("SELECT srs_name, srs_id, organization, organization_coordsys_id, definition, description "
                      "FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (_SRS_ID,)).fetchone()
    if srs is not None:
        con.execute("INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
                    "organization_coordsys_id, definition, description) VALUES (?, ?, ?, ?, ?, ?)", srs)
    table_sql = src.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    con.execute(table_sql)
    _copy_rows(src, con, name)
    for rtree in _rtree_names(src, name):
        con.execute(src.execute("SELECT sql FROM sqlite_master WHERE name = ?", (rtree,)).fetchone()[0])
        _copy_rows(src, con, rtree)
    _put_schema(con, layer_schema(src, name))
    seq = src.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (name,)).fetchone()
    if seq is not None:
        con.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq[0]))


def _copy_rows(src: sqlite3.Connection, con: sqlite3.Connection, table: str) -> None:
    cur = src.execute(f"SELECT * FROM {q(table)}")
    marks = ", ".join("?" * len(cur.description))
    con.executemany(f"INSERT INTO {q(table)} VALUES ({marks})", cur)


def key_index(con: sqlite3.Connection, name: str, key: str) -> None:
    """A unique index on a layer's key column (a plain one if stored keys repeat), for key lookups."""
    index = q(f"placegeo_key_{name}")
    if con.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
                   (f"placegeo_key_{name}",)).fetchone():
        return
    try:
        con.execute(f"CREATE UNIQUE INDEX {index} ON {q(name)} ({q(key)})")
    except sqlite3.IntegrityError:  # an atlas from before keys were unique: still an index
        con.execute(f"CREATE INDEX {index} ON {q(name)} ({q(key)})")


# -- appends -------------------------------------------------------------------------------------------

def _column_type(col: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(col.dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(col.dtype):
        return "INTEGER"
    if pd.api.types.is_float_dtype(col.dtype):
        return "REAL"
    return "TEXT"


def _values(col: pd.Series, sql_type: str) -> list[Any]:
    """A column as SQLite values of the stored column's type; None where missing."""
    missing = col.isna().to_numpy()
    kind = sql_type.upper()
    if kind == "BOOLEAN":
        vals: list[Any] = col.astype("boolean").fillna(False).astype(int).tolist()
    elif kind in ("INTEGER", "MEDIUMINT", "SMALLINT", "TINYINT", "INT"):
        vals = col.astype("Float64").fillna(0).astype("int64").tolist()
    elif kind in ("REAL", "DOUBLE", "FLOAT"):
        vals = col.astype("float64").tolist()
    else:
        vals = [str(v) for v in col.astype(object).where(~missing, "").tolist()]
    for i in np.flatnonzero(missing).tolist():
        vals[i] = None
    return vals


def append_rows(con: sqlite3.Connection, name: str, data) -> int:
    """Insert a GeoDataFrame's rows into layer ``name`` in place; returns the first new fid.

    The rtree and feature count follow through GDAL's triggers; the layer's extent in
    ``gpkg_contents`` grows to cover the new rows.
    """
    stored = {r[1]: r[2] for r in con.execute(f"PRAGMA table_info({q(name)})")}
    geom_col = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                           (name,)).fetchone()[0]
    geom_name = data.geometry.name
    for col in data.columns:
        if col != geom_name and col not in stored:
            stored[col] = _column_type(data[col])
            con.execute(f"ALTER TABLE {q(name)} ADD COLUMN {q(col)} {stored[col]}")
    cols = [c for c in data.columns if c != geom_name]
    columns = [_values(data[c], stored[c]) for c in cols]
    geoms = np.asarray(data.geometry.values)
    blobs = encode_geometries(geoms)
    fid = next((r[1] for r in con.execute(f"PRAGMA table_info({q(name)})") if r[5]), "fid")
    first = int((con.execute(f"SELECT coalesce(max({q(fid)}), 0) + 1 FROM {q(name)}").fetchone() or (1,))[0])
    fids = range(first, first + len(data))
    targets = ", ".join(q(c) for c in [fid, *cols, geom_col])
    # GDAL's rtree trigger would call back into Python for every row (four times), and its feature-count
    # trigger would rewrite gpkg_ogr_contents for every row: both are taken off for the insert, the rtree
    # filled at once from bounds computed for all rows and the count raised once, in the same transaction
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
                           "AND (name LIKE 'rtree%insert%' OR name LIKE 'trigger_insert_feature_count%')",
                           (name,)).fetchall()
    rtrees = _rtree_names(con, name) if any(t.startswith("rtree") for t, _ in triggers) else []
    counted = any(t.startswith("trigger_insert_feature_count") for t, _ in triggers)
    for trigger, _ in triggers:
        con.execute(f"DROP TRIGGER {q(trigger)}")
    con.executemany(f"INSERT INTO {q(name)} ({targets}) VALUES ({', '.join('?' * (len(cols) + 2))})",
                    zip(fids, *columns, blobs, strict=True))
    if rtrees:
        bounds = shapely.bounds(geoms)
        keep = ~np.isnan(bounds).any(axis=1)
        # fids so far: a bound on the entries stored
        if not (bulk_worthwhile(int(keep.sum()), first - 1)
                and bulk_load(con, rtrees[0], np.asarray(fids)[keep], bounds[keep])):
            entries = zip(np.asarray(fids)[keep].tolist(), bounds[keep, 0].tolist(), bounds[keep, 2].tolist(),
                          bounds[keep, 1].tolist(), bounds[keep, 3].tolist(), strict=True)
            con.executemany(f"INSERT INTO {q(rtrees[0])} (id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
                            entries)
    if counted:
        con.execute("UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? WHERE lower(table_name) = "
                    "lower(?)", (len(data), name))
    for _, sql in triggers:
        con.execute(sql)
    if len(data):
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        if minx == minx:
            con.execute("UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?1), ?1), "
                        "min_y = min(coalesce(min_y, ?2), ?2), max_x = max(coalesce(max_x, ?3), ?3), "
                        "max_y = max(coalesce(max_y, ?4), ?4), "
                        "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?5",
                        (float(minx), float(miny), float(maxx), float(maxy), name))
    return first


def decode_geometries(blobs: list[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage blobs (header, then standard WKB); None for a missing one."""
    out = np.empty(len(blobs), dtype=object)
    for i, blob in enumerate(blobs):
        if blob is None or len(blob) < 8 or blob[:2] != b"GP":
            out[i] = None
            continue
        n = _ENVELOPE_DOUBLES.get((blob[3] >> 1) & 0x07, 0)
        out[i] = shapely.from_wkb(bytes(blob[8 + 8 * n:]))
    return out


def read_rows(con: sqlite3.Connection, name: str, *, columns: list[str] | None = None,
              where: str | None = None) -> gpd.GeoDataFrame:
    """A layer as this connection sees it (its own uncommitted writes included), in stored order.

    GDAL reads through a connection of its own, which sees only the committed atlas; inside a
    transaction the layers it has changed are read here instead.
    """
    geom_col = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)).fetchone()
    fid = next((r[1] for r in con.execute(f"PRAGMA table_info({q(name)})") if r[5]), "fid")
    names = [r[1] for r in con.execute(f"PRAGMA table_info({q(name)})") if r[1] != fid]
    geom = geom_col[0] if geom_col else None
    fields = [c for c in names if c != geom and (columns is None or c in columns)]
    select = ", ".join(q(c) for c in [*fields, *([geom] if geom else [])])
    sql = f"SELECT {select} FROM {q(name)}" + (f" WHERE {where}" if where else "") + f" ORDER BY {q(fid)}"
    rows = con.execute(sql).fetchall()
    data = {c: [r[j] for r in rows] for j, c in enumerate(fields)}
    geometry = decode_geometries([r[-1] for r in rows]) if geom else np.full(len(rows), None, dtype=object)
    return gpd.GeoDataFrame(pd.DataFrame(data, columns=fields), geometry=geometry, crs=f"EPSG:{_SRS_ID}")
