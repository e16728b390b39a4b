"""Priority zones of grave relocation: scattered graves near highways, railways and scenic areas move first.

Burial reform plans (一迁二改三绿化) move scattered graves (散埋乱葬) first where they are seen or
protected: within some distance of highways and railways, and inside or near scenic areas. A
priority zone is the buffer of such a line or polygon layer, with a distance per kind of zone.
:func:`priority_zones` lists the graves inside any zone with the reason (the kind of the nearest
zone feature), that feature and the distance to it, and, given cemeteries, the cemetery each grave
goes to (the exact assignment of :func:`placegeo.cemetery.relocate_graves`).

Distances are measured in a metric CRS (:func:`placegeo.crs.to_metric`: the Gauss-Kruger zone of
the graves, or ``epsg``). "Within ``d`` metres of a feature" is the buffer test without building
the buffer (``dwithin``); :func:`zone_buffers` draws the buffers for a map.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placegeo.cemetery import relocate_graves
from placegeo.crs import to_metric
from placegeo.errors import ParameterError
from placegeo.provenance import provenance

__all__ = ["PRIORITY_METHOD", "priority_zones", "split_by_kind", "zone_buffers"]

PRIORITY_METHOD = "graves within a distance of zone features, per kind (buffer test in a metric CRS)"
_ZONE_ID_COLUMNS = ("zone_id", "id")


def split_by_kind(zones: gpd.GeoDataFrame, *, column: str = "kind") -> dict[str, gpd.GeoDataFrame]:
    """One GeoDataFrame per kind of zone (the value of ``column``), as :func:`priority_zones` takes them.

    >>> from shapely import LineString, Point
    >>> z = gpd.GeoDataFrame({"kind": ["highway", "railway", "highway"]},
    ...                      geometry=[LineString([(0, 0), (1, 0)]), LineString([(0, 1), (1, 1)]),
    ...                                Point(5, 5).buffer(1).exterior], crs=3857)
    >>> {k: len(v) for k, v in split_by_kind(z).items()}
    {'highway': 2, 'railway': 1}
    """
    if column not in zones.columns:
        raise ParameterError(f"the zone layer has no column '{column}'; it has {', '.join(map(str, zones.columns))}")
    return {str(kind): part for kind, part in zones.groupby(column, sort=True)}


def _check_dist(zones: Mapping[str, gpd.GeoDataFrame], dist_m: Mapping[str, float]) -> None:
    missing = [k for k in zones if k not in dist_m]
    if missing:
        raise ParameterError(f"no distance for zone kind(s) {', '.join(missing)}; give dist_m for every kind, "
                             f"e.g. {{{', '.join(f'{k!r}: 500' for k in zones)}}}")
    for kind, d in dist_m.items():
        if isinstance(d, bool) or not isinstance(d, int | float) or not np.isfinite(d) or d < 0:
            raise ParameterError(f"dist_m[{kind!r}] = {d!r}; give a distance of 0 m or more "
                                 "(0: only graves inside a polygon zone, or on a line)")


def _zone_ids(zones: gpd.GeoDataFrame) -> np.ndarray:
    col = next((c for c in _ZONE_ID_COLUMNS if c in zones.columns), None)
    return zones[col].astype(str).to_numpy() if col else zones.index.astype(str).to_numpy()


def _nearest_within(points: np.ndarray, zones_m: gpd.GeoDataFrame, dist: float) -> tuple[np.ndarray, np.ndarray]:
    """For each point: the position of its nearest zone feature within ``dist`` (-1: none) and the distance."""
    geoms = zones_m.geometry.to_numpy()
    pos, dist_out = np.full(len(points), -1, dtype=np.int64), np.full(len(points), np.inf)
    if not len(geoms) or not len(points):
        return pos, dist_out
    tree = shapely.STRtree(geoms)
    p_idx, z_idx = tree.query(points, predicate="dwithin", distance=dist)
    if not len(p_idx):
        return pos, dist_out
    d = shapely.distance(points[p_idx], geoms[z_idx])
    order = np.lexsort((d, p_idx))  # per point, nearest first
    first = order[np.r_[True, p_idx[order][1:] != p_idx[order][:-1]]]
    pos[p_idx[first]], dist_out[p_idx[first]] = z_idx[first], d[first]
    return pos, dist_out


def priority_zones(
    graves: gpd.GeoDataFrame,
    zones: Mapping[str, gpd.GeoDataFrame],
    dist_m: Mapping[str, float],
    *,
    cemeteries: gpd.GeoDataFrame | None = None,
    epsg: int | None = None,
    id_col: str = "grave_id",
    year: int | None = None,
    max_dist_km: float | None = None,
    method: str = "optimal",
) -> gpd.GeoDataFrame:
    """The graves to move first: those within ``dist_m[kind]`` of a zone feature of that kind.

    Parameters
    ----------
    graves : GeoDataFrame
        Scattered graves (points) with ``id_col``; graves with ``status`` other than ``in_place`` are
        skipped (they have moved or been greened already).
    zones : mapping of kind to GeoDataFrame
        Line or polygon layers by kind (``highway``, ``railway``, ``scenic_area`` …), e.g.
        ``split_by_kind(atlas.read("protection_lines"))``; ``zone_id`` and ``name`` are reported when present.
    dist_m : mapping of kind to metres
        The zone's width on each side of a line, or around a polygon (0: inside only); every kind in
        ``zones`` needs one.
    cemeteries : GeoDataFrame, optional
        Public-welfare cemeteries: the graves are assigned to those with free plots by
        :func:`placegeo.cemetery.relocate_graves` (``method``, ``year``, ``max_dist_km`` as there).
    epsg : int, optional
        The metric CRS to measure in (default: the Gauss-Kruger zone of the graves).

    Returns
    -------
    GeoDataFrame
        One row per grave in a zone, in the graves' CRS, nearest first within each reason: ``id_col``,
        ``reason`` (kind of the nearest zone feature), ``reasons`` (every kind whose zone holds it,
        ``;``-separated), ``zone_id``, ``zone_name``, ``zone_dist_m``; with cemeteries also
        ``cemetery_id``, ``cemetery`` (name), ``move_km`` and ``placed``. ``attrs``: provenance
        (method, distances, CRS, whether any input is sample data).

    Examples
    --------
    >>> from shapely import LineString, Point, box
    >>> graves = gpd.GeoDataFrame({"grave_id": ["g1", "g2", "g3"]},
    ...                           geometry=[Point(0, 150), Point(0, 900), Point(5010, 0)], crs=3857)
    >>> roads = gpd.GeoDataFrame({"zone_id": ["G3"]}, geometry=[LineString([(-2000, 0), (2000, 0)])], crs=3857)
    >>> parks = gpd.GeoDataFrame({"zone_id": ["P1"]}, geometry=[box(5000, -50, 6000, 50)], crs=3857)
    >>> out = priority_zones(graves, {"highway": roads, "scenic_area": parks},
    ...                      {"highway": 200, "scenic_area": 0}, epsg=3857)
    >>> out[["grave_id", "reason", "zone_id", "zone_dist_m"]].values.tolist()
    [['g1', 'highway', 'G3', 150.0], ['g3', 'scenic_area', 'P1', 0.0]]
    """
    _check_dist(zones, dist_m)
    if id_col not in graves.columns:
        raise ParameterError(f"graves have no column '{id_col}'; pass id_col= the grave id column")
    todo = graves[graves["status"].astype(str) == "in_place"] if "status" in graves.columns else graves
    g_m = to_metric(todo, epsg=epsg) if len(todo) else todo
    pts = g_m.geometry.to_numpy()
    kinds = list(zones)
    best = np.full(len(todo), -1, dtype=np.int64)  # index into kinds
    best_d = np.full(len(todo), np.inf)
    best_pos = np.full(len(todo), -1, dtype=np.int64)
    hits = np.zeros((len(todo), len(kinds)), dtype=bool)
    for k, kind in enumerate(kinds):
        z_m = zones[kind].to_crs(g_m.crs) if len(todo) else zones[kind]
        pos, d = _nearest_within(pts, z_m, float(dist_m[kind]))
        hits[:, k] = pos >= 0
        better = d < best_d
        best, best_d, best_pos = np.where(better, k, best), np.where(better, d, best_d), np.where(better, pos, best_pos)
    inside = best >= 0
    out = todo.loc[inside, [id_col, "geometry"]].copy()
    kind_of = np.array(kinds, dtype=object)
    out.insert(1, "reason", kind_of[best[inside]] if len(kinds) else [])
    out.insert(2, "reasons", [";".join(kind_of[row]) for row in hits[inside]])
    zone_ids = {kind: _zone_ids(zones[kind]) for kind in kinds}
    no_name = np.full(max(len(z) for z in zones.values()) if zones else 0, None, dtype=object)
    zone_names = {kind: (zones[kind]["name"].astype(str).to_numpy() if "name" in zones[kind] else no_name)
                  for kind in kinds}
    reasons, positions = out["reason"].to_numpy(), best_pos[inside]
    out.insert(3, "zone_id", [zone_ids[r][p] for r, p in zip(reasons, positions, strict=True)])
    out.insert(4, "zone_name", [zone_names[r][p] for r, p in zip(reasons, positions, strict=True)])
    out.insert(5, "zone_dist_m", np.round(best_d[inside], 1))
    based_on: dict[str, Any] | None = None
    if cemeteries is not None:
        moved = relocate_graves(out, cemeteries, method=method, year=year, max_dist_km=max_dist_km)
        names = (cemeteries.set_index(cemeteries["cemetery_id"].astype(str))["name"]
                 if "name" in cemeteries else pd.Series(dtype=object))
        out["cemetery_id"] = moved.graves["cemetery_id"].to_numpy()
        out["cemetery"] = out["cemetery_id"].map(names)
        out["move_km"] = moved.graves["dist_km"].round(3).to_numpy()
        out["placed"] = moved.graves["placed"].to_numpy()
        based_on = moved.graves.attrs
    out = out.sort_values(["reason", "zone_dist_m", id_col], kind="stable")
    out = gpd.GeoDataFrame(out[[c for c in out.columns if c != "geometry"] + ["geometry"]], geometry="geometry",
                           crs=graves.crs)
    method_text = PRIORITY_METHOD + (f"; destinations: {based_on['method']}" if based_on else "")
    out.attrs = provenance(method=method_text,
                           parameters={"dist_m": {k: float(v) for k, v in dist_m.items() if k in zones},
                                       "metric_crs": g_m.crs.to_string() if g_m.crs is not None else None,
                                       "id_col": id_col},
                           inputs={"graves": graves, **{f"zones:{k}": v for k, v in zones.items()},
                                   "cemeteries": cemeteries},
                           based_on=based_on)
    if based_on:
        out.attrs["method"] = method_text
    return out


def zone_buffers(zones: Mapping[str, gpd.GeoDataFrame], dist_m: Mapping[str, float], *,
                 epsg: int | None = None) -> gpd.GeoDataFrame:
    """The priority zones as polygons, one (dissolved) row per kind, for a map; in the zones' CRS.

    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=3857)
    >>> z = zone_buffers({"highway": roads}, {"highway": 100}, epsg=3857)
    >>> z["kind"].tolist(), round(z.to_crs(3857).area.iloc[0] / 1000)
    (['highway'], 231)
    """
    _check_dist(zones, dist_m)
    rows, crs = [], None
    for kind, layer in zones.items():
        crs = crs or layer.crs
        metric = to_metric(layer, epsg=epsg)
        shape = metric.buffer(float(dist_m[kind])).union_all() if dist_m[kind] > 0 else metric.union_all()
        rows.append(gpd.GeoDataFrame({"kind": [kind], "dist_m": [float(dist_m[kind])]}, geometry=[shape],
                                     crs=metric.crs).to_crs(crs))
    if not rows:
        return gpd.GeoDataFrame({"kind": [], "dist_m": []}, geometry=[], crs=crs)
    out = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=crs)
    out.attrs = provenance(method="buffers of zone features, per kind, dissolved",
                           parameters={"dist_m": dict(dist_m), "epsg": epsg},
                           inputs={f"zones:{k}": v for k, v in zones.items()})
    return out
