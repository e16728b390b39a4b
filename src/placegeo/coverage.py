"""Coverage: who lives within a 5/10/15-minute walk of care, where the gaps are, where to build next.

Everything starts from one multi-source shortest-path pass (:meth:`WalkNetwork.nearest_source`):
every network node gets its distance to the nearest facility at once, instead of one isochrone per
facility. Facilities and population units join the street they stand on (the nearest edge, split
where the point meets it: :meth:`WalkNetwork.join`), and a unit's walk is its leg to the street,
along the street to either end of the edge, and on through the network (or straight along the edge
when a facility stands on the same one). Without a network, distances fall back to the straight line
times a detour factor. Every result says how it was measured, with which parameters and whether any
input is sample data, in its ``attrs`` (:func:`placegeo.provenance.provenance`).

Thresholds follow the life circles of GB 50180-2018 (城市居住区规划设计标准): 5, 10 and 15 minutes
are 300, 500 and 1,000 m of walking; ``CoverageRule(rule="speed", speed_kmh=...)`` uses walking
time at a given speed instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from placegeo import hours
from placegeo.crs import to_metric
from placegeo.errors import CoverageError
from placegeo.network import EdgeJoin, NetworkError, WalkNetwork
from placegeo.provenance import provenance

__all__ = [
    "NETWORK_METHOD",
    "CoverageError",
    "CoverageRule",
    "area_coverage",
    "coverage_gaps",
    "coverage_summary",
    "facility_load",
    "open_at",
    "read_coverage",
    "relief_reach",
    "service_areas",
    "suggest_sites",
    "travel_to_nearest",
    "write_coverage",
]

GB50180_M = {5: 300.0, 10: 500.0, 15: 1000.0}
NETWORK_METHOD = "network: joined to nearest edge"
_ID_COLUMNS = ("facility_id", "point_id", "cemetery_id", "name_id", "unit_id", "id")


@dataclass(frozen=True)
class CoverageRule:
    """How walking time and the life-circle thresholds are measured.

    Attributes
    ----------
    thresholds_min : tuple of int
        The circles, in minutes (default 5, 10, 15).
    rule : {'gb50180', 'speed'}
        ``gb50180``: 5/10/15 minutes are 300/500/1,000 m (GB 50180-2018); ``speed``: minutes x speed.
    speed_kmh : float
        Walking speed used for travel times (and for thresholds under the ``speed`` rule); 4 km/h
        suits older people.
    detour_factor : float
        Network distance / straight-line distance, used only when there is no network.
    max_snap_m : float
        Farther than this from any street, a point is off the network.
    """

    thresholds_min: tuple[int, ...] = (5, 10, 15)
    rule: str = "gb50180"
    speed_kmh: float = 4.0
    detour_factor: float = 1.3
    max_snap_m: float = 500.0
    gb_distances_m: dict[int, float] = field(default_factory=lambda: dict(GB50180_M))

    def __post_init__(self) -> None:
        if self.rule not in ("gb50180", "speed"):
            raise CoverageError(f"rule = {self.rule!r}; use 'gb50180' (300/500/1000 m) or 'speed'")
        if not (isinstance(self.speed_kmh, int | float) and self.speed_kmh > 0):
            raise CoverageError(f"speed_kmh = {self.speed_kmh!r}; a walking speed must be above 0 km/h (e.g. 4)")
        if not self.thresholds_min or any(t <= 0 for t in self.thresholds_min):
            raise CoverageError(f"thresholds_min = {self.thresholds_min!r}; give positive minutes such as (5, 10, 15)")
        if self.rule == "gb50180":
            missing = [t for t in self.thresholds_min if t not in self.gb_distances_m]
            if missing:
                raise CoverageError(f"GB 50180 defines 5/10/15-minute circles, not {missing}; "
                                    "use rule='speed' for other thresholds")
        if not 1.0 <= self.detour_factor <= 3.0:
            raise CoverageError(f"detour_factor = {self.detour_factor!r}; use 1.0-3.0 (1.3 is typical)")
        if not self.max_snap_m > 0:
            raise CoverageError(f"max_snap_m = {self.max_snap_m!r}; give a distance above 0 m")

    def threshold_m(self, minutes: int) -> float:
        if self.rule == "gb50180":
            if minutes not in self.gb_distances_m:
                raise CoverageError(f"GB 50180 has no {minutes}-minute circle; use 5, 10 or 15, or rule='speed'")
            return self.gb_distances_m[minutes]
        return minutes * self.speed_kmh * 1000.0 / 60.0

    @property
    def limit_m(self) -> float:
        return max(self.threshold_m(t) for t in self.thresholds_min)

    def method(self, network: WalkNetwork | None) -> str:
        """How distances were measured, as every result states it."""
        return NETWORK_METHOD if network is not None else f"straight line x {self.detour_factor:g} (no network)"

    def minutes(self, dist_m):
        return np.asarray(dist_m, dtype="float64") / (self.speed_kmh * 1000.0 / 60.0)


def _id_column(gdf: gpd.GeoDataFrame, id_col: str | None) -> str:
    if id_col:
        if id_col not in gdf:
            raise CoverageError(f"id column '{id_col}' is not in the facilities; they have {', '.join(gdf.columns)}")
        return id_col
    for c in _ID_COLUMNS:
        if c in gdf:
            return c
    raise CoverageError("cannot tell the facilities' id column; pass id_col=")


def _check_layers(units: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> None:
    if len(facilities) == 0:
        raise CoverageError("the facility layer is empty; nothing can cover anyone (check the type filter)")
    if len(units) == 0:
        raise CoverageError("there are no population units to measure")
    for name, g in (("units", units), ("facilities", facilities)):
        if g.crs is None:
            raise CoverageError(f"the {name} have no CRS; set it (atlas layers are EPSG:4490)")


def _rule_parameters(rule: CoverageRule, **more) -> dict:
    """The rule's settings and the call's other parameters, for a result's provenance."""
    return {**{f.name: getattr(rule, f.name) for f in fields(rule)}, **more}


def _join_facilities(network: WalkNetwork, facilities: gpd.GeoDataFrame, rule: CoverageRule, ids) -> EdgeJoin:
    joined = network.join(facilities, max_snap_m=rule.max_snap_m)
    if not joined.on_network.all():
        off = ids[~joined.on_network]
        raise NetworkError(
            f"{len(off)} facilit{'y is' if len(off) == 1 else 'ies are'} farther than {rule.max_snap_m:g} m from "
            f"the network ({', '.join(map(str, off[:5]))}{' …' if len(off) > 5 else ''}): the network does not "
            "cover their area; extend the network, drop them, or raise max_snap_m"
        )
    return joined


def travel_to_nearest(
    units: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    rule: CoverageRule | None = None,
    id_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Walking distance and time from every unit to its nearest facility, and the circles it falls in.

    Returns a copy of ``units`` with ``nearest_facility_id``, ``walk_dist_m``, ``travel_time_min``,
    ``covered_<t>min`` for each threshold, ``circle_min`` (the smallest circle reached), ``off_network``
    and ``method`` (the network, units and facilities joined to their nearest edge, or the
    straight-line fallback). Units not reached within the largest threshold have no nearest facility
    (NaN distance). ``attrs`` hold the provenance: method, parameters, ``sample``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> homes = gpd.GeoDataFrame({"facility_id": ["f1"]}, geometry=[Point(117.0, 36.6)], crs=4490)
    >>> units = gpd.GeoDataFrame({"unit_id": ["a", "b"], "residents": [10, 20], "residents_60plus": [2, 5]},
    ...                          geometry=[Point(117.002, 36.6), Point(117.02, 36.6)], crs=4490)
    >>> r = travel_to_nearest(units, homes)
    >>> r[["unit_id", "circle_min", "covered_15min"]].values.tolist()
    [['a', 5, True], ['b', <NA>, False]]
    >>> r.attrs["method"]
    'straight line x 1.3 (no network)'
    """
    rule = rule or CoverageRule()
    _check_layers(units, facilities)
    fid = _id_column(facilities, id_col)
    ids = facilities[fid].astype(str).to_numpy()
    limit = rule.limit_m
    if network is not None:
        fjoin = _join_facilities(network, facilities, rule, ids)
        ujoin = network.join(units, max_snap_m=rule.max_snap_m)
        dist, src = network.nearest_source(fjoin, ujoin, limit_m=limit)
        on = ujoin.on_network
    else:
        mu = to_metric(units)
        mf = facilities.to_crs(mu.crs)
        upts = mu.geometry.representative_point()
        tree = cKDTree(np.column_stack([mf.geometry.x, mf.geometry.y]))
        d, src = tree.query(np.column_stack([upts.x, upts.y]))
        dist = d * rule.detour_factor
        on = np.ones(len(units), dtype=bool)
    method = rule.method(network)
    reached = np.isfinite(dist) & (dist <= limit) & (src >= 0)
    out = units.copy()
    out["nearest_facility_id"] = np.where(reached, ids[np.clip(src, 0, None)], None)
    out["walk_dist_m"] = np.where(reached, np.round(dist, 1), np.nan)
    out["travel_time_min"] = np.where(reached, np.round(rule.minutes(dist), 2), np.nan)
    circle = np.full(len(units), np.nan)
    for t in sorted(rule.thresholds_min, reverse=True):
        hit = reached & (dist <= rule.threshold_m(t))
        out[f"covered_{t}min"] = hit
        circle[hit] = t
    out["circle_min"] = pd.Series(circle, index=units.index).round().astype("Int64")  # NaN -> <NA>
    out["off_network"] = ~on
    out["method"] = method
    out.attrs.update({"rule": rule, "facility_id_column": fid,
                      **provenance(method=method, parameters=_rule_parameters(rule, facility_id_column=fid),
                                   inputs={"units": units, "facilities": facilities, "network": network})})
    return out


def coverage_summary(
    result: gpd.GeoDataFrame,
    *,
    by: str = "town_code",
    target_min: int = 15,
    target_share: float = 0.9,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Share of residents and of residents aged 60+ covered at each circle, per admin unit.

    ``meets_target`` says whether the 60+ share covered within ``target_min`` reaches ``target_share``.
    """
    if by not in result:
        raise CoverageError(f"the result has no column '{by}'; use district_code or town_code")
    if not 0 < target_share <= 1:
        raise CoverageError(f"target_share = {target_share!r}; give a share in (0, 1], e.g. 0.9")
    rule: CoverageRule = result.attrs.get("rule", CoverageRule())
    if f"covered_{target_min}min" not in result:
        raise CoverageError(f"no {target_min}-minute circle in the result; circles are {rule.thresholds_min}")
    df = pd.DataFrame({by: result[by].astype(str), "residents": result["residents"].astype("float64"),
                       "residents_60plus": result["residents_60plus"].astype("float64")})
    for t in rule.thresholds_min:
        cov = result[f"covered_{t}min"].to_numpy(dtype=bool)
        df[f"res_{t}"] = df["residents"] * cov
        df[f"old_{t}"] = df["residents_60plus"] * cov
    g = df.groupby(by).sum()
    out = pd.DataFrame({"residents": g["residents"].astype("int64"),
                        "residents_60plus": g["residents_60plus"].astype("int64")}, index=g.index)
    if names:
        out.insert(0, "name", [names.get(i, "") for i in out.index])
    for t in rule.thresholds_min:
        out[f"share_{t}min"] = (g[f"res_{t}"] / g["residents"].where(g["residents"] > 0)).round(3)
        out[f"share60_{t}min"] = (g[f"old_{t}"] / g["residents_60plus"].where(g["residents_60plus"] > 0)).round(3)
    out["meets_target"] = out[f"share60_{target_min}min"].fillna(1.0) >= target_share
    out.attrs.update({"target_min": target_min, "target_share": target_share,
                      **provenance(parameters={"by": by, "target_min": target_min, "target_share": target_share},
                                   based_on=result)})
    return out


def area_coverage(
    result: gpd.GeoDataFrame,
    districts,
    *,
    target_min: int = 15,
    target_share: float = 0.9,
    names: dict[str, str] | None = None,
    label: str = "total",
) -> pd.DataFrame:
    """Coverage of an area made of whole districts (a city's central districts): per district and in all.

    Parameters
    ----------
    result : GeoDataFrame
        From :func:`travel_to_nearest` (units with ``district_code``); units of other districts are left out.
    districts : iterable of str
        The district codes of the area, e.g. ``load_city("jining").central_districts``.
    target_min, target_share, names
        As in :func:`coverage_summary`.
    label : str
        Index of the row for the whole area.

    Returns
    -------
    DataFrame
        :func:`coverage_summary` by ``district_code`` for the area's districts, then the row ``label``
        for the whole area (shares weighted by residents).

    Examples
    --------
    >>> from shapely import Point
    >>> homes = gpd.GeoDataFrame({"facility_id": ["f1"]}, geometry=[Point(117.0, 36.6)], crs=4490)
    >>> units = gpd.GeoDataFrame({"unit_id": ["a", "b", "c"], "district_code": ["370811", "370812", "370826"],
    ...                           "residents": [10, 20, 5], "residents_60plus": [2, 6, 1]},
    ...                          geometry=[Point(117.002, 36.6), Point(117.02, 36.6), Point(117.0, 36.601)], crs=4490)
    >>> t = area_coverage(travel_to_nearest(units, homes), ["370811", "370812"])
    >>> t["share60_15min"].to_dict()
    {'370811': 1.0, '370812': 0.0, 'total': 0.25}
    """
    codes = [str(c) for c in districts]
    if "district_code" not in result:
        raise CoverageError("the result has no column 'district_code'; pass units with their district codes")
    inside = result[result["district_code"].astype(str).isin(codes)]
    if inside.empty:
        raise CoverageError(f"no unit lies in the districts {', '.join(codes)}; check the codes against the "
                            "units' district_code")
    per = coverage_summary(inside, by="district_code", target_min=target_min, target_share=target_share,
                           names=names)
    whole = coverage_summary(inside.assign(district_code=label), by="district_code", target_min=target_min,
                             target_share=target_share)
    if names:
        whole.insert(0, "name", label)
    out = pd.concat([per, whole])
    out.index.name = "district_code"
    out.attrs.update({**per.attrs, **provenance(parameters={"districts": codes, "label": label}, based_on=per)})
    return out


def coverage_gaps(result: gpd.GeoDataFrame, *, threshold_min: int = 15, by: str = "town_code") -> gpd.GeoDataFrame:
    """Populated units outside the ``threshold_min`` circle, merged per admin unit: where care is missing."""
    col = f"covered_{threshold_min}min"
    if col not in result:
        raise CoverageError(f"no {threshold_min}-minute circle in the result")
    gap = result[(~result[col]) & (result["residents"] > 0)]
    keys = [c for c in ("district_code", by) if c in gap]
    prov = provenance(parameters={"threshold_min": threshold_min, "by": by}, based_on=result)
    if gap.empty:
        empty = gpd.GeoDataFrame(columns=["gap_id", *keys, "residents", "residents_60plus", "n_units", "geometry"],
                                 geometry="geometry", crs=result.crs)
        empty.attrs.update(prov)
        return empty
    merged = gap.dissolve(by=keys, aggfunc={"residents": "sum", "residents_60plus": "sum", "unit_id": "count"})
    merged = merged.rename(columns={"unit_id": "n_units"}).reset_index()
    merged["geometry"] = merged.geometry.apply(lambda g: g if g.geom_type == "MultiPolygon"
                                                else shapely.multipolygons(shapely.get_parts(g)))
    merged.insert(0, "gap_id", [f"GAP{i:04d}" for i in range(len(merged))])
    merged["threshold_min"] = threshold_min
    merged = merged.sort_values("residents_60plus", ascending=False, ignore_index=True)
    merged.attrs = dict(prov)
    return merged


def _batches(network: WalkNetwork, n_sources: int, budget: int = 20_000_000) -> int:
    return max(1, min(n_sources, budget // max(network.n_nodes, 1)))


def _union_of_cells(inside: np.ndarray):
    """The union of the true cells of a boolean raster, in cell units, as a valid (multi)polygon.

    Each row's runs of cells become one rectangle with a vertex at every cell corner along its top
    and bottom, so that neighbouring rows share vertices and the rectangles form a valid coverage,
    which :func:`shapely.coverage_union_all` joins far faster than a general union.
    """
    edges = np.diff(np.pad(inside, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    r0, c0 = np.nonzero(edges == 1)
    _, c1 = np.nonzero(edges == -1)
    width = c1 - c0
    npts = 2 * width + 3  # bottom edge left to right, top edge right to left, closing point
    ring = np.repeat(np.arange(len(width)), npts)
    k = np.arange(npts.sum()) - np.repeat(np.cumsum(npts) - npts, npts)
    w, c, r = width[ring], c0[ring], r0[ring]
    bottom, top = k <= w, (k > w) & (k <= 2 * w + 1)
    x = np.where(bottom, c + k, np.where(top, c + (2 * w + 1 - k), c))
    y = np.where(bottom, r, np.where(top, r + 1, r))
    rings = shapely.linearrings(np.column_stack([x, y]).astype("float64"), indices=ring)
    return shapely.simplify(shapely.coverage_union_all(shapely.polygons(rings)), 0.0)


def service_areas(
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    minutes: int = 15,
    rule: CoverageRule | None = None,
    buffer_m: float = 50.0,
    cell_m: float | None = None,
    id_col: str | None = None,
) -> gpd.GeoDataFrame:
    """One polygon per facility: the streets reachable within ``minutes``, widened by ``buffer_m``.

    Edges wholly within reach are taken whole and edges half-reached are cut where the walk runs out,
    so the polygon follows the streets instead of a hull around them. Exact buffers of thousands of
    street pieces cost a quarter of a second per facility; instead the reached streets are rasterised
    on cells of ``cell_m`` (default ``buffer_m / 5``), a Euclidean distance transform marks the cells
    within ``buffer_m`` of them, and each row's runs of cells become rectangles joined by a coverage
    union. The area comes within about 2% of the exact buffer, at about a fifth of the time.
    """
    from scipy import ndimage

    rule = rule or CoverageRule()
    if len(facilities) == 0:
        raise CoverageError("the facility layer is empty")
    if not buffer_m > 0:
        raise CoverageError(f"buffer_m = {buffer_m!r}; give a distance above 0 m")
    cell = float(cell_m) if cell_m is not None else buffer_m / 5.0
    if not 0 < cell <= buffer_m:
        raise CoverageError(f"cell_m = {cell_m!r}; give a cell size above 0 and at most buffer_m")
    fid = _id_column(facilities, id_col)
    ids = facilities[fid].astype(str).to_numpy()
    limit = rule.threshold_m(minutes)
    joined = _join_facilities(network, facilities, rule, ids)
    nodes, offsets = network.ends(joined)
    xy = network.xy
    polys = np.empty(len(ids), dtype=object)
    for i, reached, dist in network.reach(nodes, limit_m=limit, offsets_m=offsets,
                                          batch=_batches(network, len(ids))):
        e = network.edges_at(reached)
        u, v, length = network.u[e], network.v[e], network.length_m[e]
        du, dv = dist[u], dist[v]
        # each reached edge from p towards q, as far as the walk allows (t = 1: the whole edge)
        p = np.where((du <= dv)[:, None], xy[u], xy[v])
        q = np.where((du <= dv)[:, None], xy[v], xy[u])
        t = np.clip((limit - np.minimum(du, dv)) / length, 0.0, 1.0)
        ok = np.minimum(du, dv) <= limit
        p, q, t = p[ok], q[ok], t[ok]
        # the facility's own edge, from where it meets it towards both ends, and its walk to the street
        at, e, budget = joined.at_xy[i], joined.edge[i], limit - joined.leg_m[i]
        to_end = np.array([joined.to_u_m[i], joined.to_v_m[i]])
        own_t = np.clip(budget / np.where(to_end > 0, to_end, 1.0), 0.0, 1.0)
        p = np.vstack([p, at, at, joined.point_xy[i]])
        q = np.vstack([q, xy[network.u[e]], xy[network.v[e]], at])
        t = np.concatenate([t, own_t, [1.0 if budget >= 0 else 0.0]])
        # sample the reached pieces every half cell, mark those cells, grow them by buffer_m
        steps = np.maximum(np.ceil(np.hypot(*((q - p) * t[:, None]).T) / (cell / 2)), 1).astype(np.int64)
        rep = np.repeat(np.arange(len(p)), steps + 1)
        frac = (np.arange(len(rep)) - np.repeat(np.cumsum(steps + 1) - (steps + 1), steps + 1)) / steps[rep]
        pts = p[rep] + (q[rep] - p[rep]) * (frac * t[rep])[:, None]
        origin = pts.min(0) - buffer_m - cell
        shape = np.ceil((pts.max(0) + buffer_m + cell - origin) / cell).astype(np.int64) + 1
        free = np.ones((shape[1], shape[0]), dtype=bool)
        cols, rows = ((pts - origin) // cell).astype(np.int64).T
        free[rows, cols] = False
        inside = ndimage.distance_transform_edt(free, sampling=cell) <= buffer_m
        merged = shapely.transform(_union_of_cells(inside), lambda c, o=origin: c * cell + o)
        polys[i] = merged if merged.geom_type == "MultiPolygon" else shapely.multipolygons([merged])
    out = gpd.GeoDataFrame({"area_id": [f"SA{i:05d}" for i in range(len(ids))], "facility_id": ids,
                            "threshold_min": minutes}, geometry=polys, crs=network.crs)
    out["area_km2"] = np.round(out.area / 1e6, 4)
    out = out.to_crs(4490)
    out.attrs.update(provenance(method=rule.method(network),
                                parameters=_rule_parameters(rule, minutes=minutes, buffer_m=buffer_m, cell_m=cell),
                                inputs={"facilities": facilities, "network": network}))
    return out


def facility_load(
    units: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    minutes: int = 15,
    rule: CoverageRule | None = None,
    capacity_col: str = "beds",
    demand_col: str = "residents_60plus",
    id_col: str | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Two-step floating catchment (2SFCA): load on each facility and access of each unit.

    Step 1, per facility: ``demand_per_bed`` = residents 60+ within reach ÷ beds. Step 2, per unit:
    ``beds_per_1000_60plus`` = 1,000 × Σ over facilities within reach of (beds ÷ their demand).
    Returns ``(facilities, units)`` copies with those columns.
    """
    rule = rule or CoverageRule()
    _check_layers(units, facilities)
    for col, g, what in ((capacity_col, facilities, "facilities"), (demand_col, units, "units")):
        if col not in g:
            raise CoverageError(f"the {what} have no column '{col}'")
    fid = _id_column(facilities, id_col)
    ids = facilities[fid].astype(str).to_numpy()
    limit = rule.threshold_m(minutes)
    cap = pd.to_numeric(facilities[capacity_col], errors="coerce").fillna(0).to_numpy(dtype="float64")
    demand = pd.to_numeric(units[demand_col], errors="coerce").fillna(0).to_numpy(dtype="float64")
    pairs_f, pairs_u = [], []
    if network is not None:
        fjoin = _join_facilities(network, facilities, rule, ids)
        ujoin = network.join(units, max_snap_m=rule.max_snap_m)
        for i, dist in network.reach_points(fjoin, ujoin, limit_m=limit, batch=_batches(network, len(ids))):
            within = np.flatnonzero(dist <= limit)
            pairs_f.append(np.full(len(within), i))
            pairs_u.append(within)
    else:
        mu = to_metric(units)
        mf = facilities.to_crs(mu.crs)
        upts = mu.geometry.representative_point()
        tree = cKDTree(np.column_stack([upts.x, upts.y]))
        hits = tree.query_ball_point(np.column_stack([mf.geometry.x, mf.geometry.y]), limit / rule.detour_factor)
        for i, h in enumerate(hits):
            pairs_f.append(np.full(len(h), i))
            pairs_u.append(np.asarray(h, dtype=np.int64))
    pf = np.concatenate(pairs_f) if pairs_f else np.zeros(0, dtype=np.int64)
    pu = np.concatenate(pairs_u) if pairs_u else np.zeros(0, dtype=np.int64)
    demand_in_reach = np.bincount(pf, weights=demand[pu], minlength=len(ids))
    ratio = np.divide(cap, demand_in_reach, out=np.zeros(len(ids)), where=demand_in_reach > 0)
    access = np.bincount(pu, weights=ratio[pf], minlength=len(units))
    f_out = facilities.copy()
    f_out["demand_60plus_in_reach"] = demand_in_reach.round(0)
    f_out["demand_per_bed"] = np.where(cap > 0, np.round(demand_in_reach / np.where(cap > 0, cap, 1), 2), np.nan)
    u_out = units.copy()
    u_out["beds_per_1000_60plus"] = np.round(access * 1000, 2)
    prov = provenance(method=rule.method(network),
                      parameters=_rule_parameters(rule, minutes=minutes, capacity_col=capacity_col,
                                                  demand_col=demand_col, facility_id_column=fid),
                      inputs={"units": units, "facilities": facilities, "network": network})
    f_out.attrs, u_out.attrs = dict(prov), dict(prov)
    return f_out, u_out


def suggest_sites(
    result: gpd.GeoDataFrame,
    *,
    k: int = 5,
    minutes: int = 15,
    candidates: gpd.GeoDataFrame | None = None,
    network: WalkNetwork | None = None,
    max_candidates: int = 1000,
) -> gpd.GeoDataFrame:
    """Choose ``k`` new sites that add the most covered residents aged 60+, existing facilities kept.

    ``result`` is :func:`travel_to_nearest`'s output. Candidates default to the centroids of the
    uncovered populated units (the ``max_candidates`` with most older residents). Greedy maximal
    coverage: each step takes the candidate covering the most still-uncovered older residents, which
    is within 63% of the best possible set and in practice close to it. Returns the chosen sites in
    order with ``gain_60plus``, ``gain_residents`` and the running ``covered_60plus_share``.
    """
    if k < 1:
        raise CoverageError(f"k = {k}; ask for at least one site")
    rule: CoverageRule = result.attrs.get("rule", CoverageRule())
    col = f"covered_{minutes}min"
    if col not in result:
        raise CoverageError(f"no {minutes}-minute circle in the result")
    limit = rule.threshold_m(minutes)
    uncovered = (~result[col].to_numpy(dtype=bool)) & (result["residents"].to_numpy() > 0)
    old = result["residents_60plus"].to_numpy(dtype="float64")
    res = result["residents"].to_numpy(dtype="float64")
    if candidates is None:
        pool = result[uncovered].nlargest(max_candidates, "residents_60plus")
        candidates = gpd.GeoDataFrame({"candidate_id": pool["unit_id"].astype(str).to_numpy()
                                       if "unit_id" in pool else np.arange(len(pool)).astype(str)},
                                      geometry=pool.geometry.representative_point().to_numpy(), crs=result.crs)
    if len(candidates) == 0:
        raise CoverageError("no candidate sites: every populated unit is already covered")
    if "candidate_id" not in candidates:
        candidates = candidates.assign(candidate_id=np.arange(len(candidates)).astype(str))
    # which uncovered units each candidate would cover
    unc_idx = np.flatnonzero(uncovered)
    covers: list[np.ndarray] = []
    if network is not None:
        cjoin = network.join(candidates, max_snap_m=rule.max_snap_m)  # candidates off the network cover nobody
        ujoin = network.join(result.iloc[unc_idx], max_snap_m=rule.max_snap_m)
        reach = {i: unc_idx[dist <= limit] for i, dist in
                 network.reach_points(cjoin, ujoin, limit_m=limit, batch=_batches(network, len(candidates)))}
        covers = [reach[i] for i in range(len(candidates))]
    else:
        mu = to_metric(result)
        cand = candidates.to_crs(mu.crs)
        upts = mu.geometry.representative_point().to_numpy()[unc_idx]
        tree = cKDTree(shapely.get_coordinates(upts))
        hits = tree.query_ball_point(np.column_stack([cand.geometry.x, cand.geometry.y]), limit / rule.detour_factor)
        covers = [unc_idx[np.asarray(h, dtype=np.int64)] for h in hits]
    taken = np.zeros(len(result), dtype=bool)
    total_old = old.sum()
    covered_old = old[result[col].to_numpy(dtype=bool)].sum()
    rows = []
    for step in range(min(k, len(candidates))):
        gains = np.array([old[c[~taken[c]]].sum() for c in covers])
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        new = covers[best][~taken[covers[best]]]
        taken[new] = True
        covered_old += old[new].sum()
        rows.append({"rank": step + 1, "candidate_id": candidates["candidate_id"].iloc[best],
                     "gain_60plus": int(old[new].sum()), "gain_residents": int(res[new].sum()),
                     "units_covered": len(new), "covered_60plus_share": round(covered_old / total_old, 4),
                     "geometry": candidates.geometry.iloc[best]})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=candidates.crs) if rows else gpd.GeoDataFrame(
        columns=["rank", "candidate_id", "gain_60plus", "gain_residents", "units_covered",
                 "covered_60plus_share", "geometry"], geometry="geometry", crs=candidates.crs)
    out.attrs.update(provenance(method=rule.method(network),
                                parameters={"k": k, "minutes": minutes, "max_candidates": max_candidates},
                                inputs={"candidates": candidates, "network": network}, based_on=result))
    return out


def _open_any_day(points: pd.DataFrame, hour: float) -> pd.Series:
    """:func:`placegeo.hours.open_mask` at ``hour`` for points whose hours do not depend on the weekday."""
    masks = [hours.open_mask(points, weekday=d, hour=hour) for d in range(1, 8)]
    same = np.ones(len(points), dtype=bool)
    for m in masks[1:]:
        same &= (m.isna() & masks[0].isna() | (m == masks[0])).fillna(False).to_numpy(dtype=bool)
    if not same.all():
        rows = np.flatnonzero(~same)
        texts = points["hours"].iloc[rows[:3]].tolist()
        raise CoverageError(
            f"{len(rows)} point(s) have hours that depend on the weekday (row {rows[0] + 1}: "
            f"{', '.join(map(repr, texts))}{' …' if len(rows) > 3 else ''}); pass weekday= (1 = Monday … 7 = Sunday)"
        )
    return masks[0]


def open_at(points: pd.DataFrame, hour: float, *, weekday: int | None = None) -> pd.Series:
    """Which relief points are open at ``hour`` (0-24, e.g. 22.5 for 22:30) on ``weekday`` (1 = Monday … 7).

    Reads ``open_24h`` and ``hours`` with :func:`placegeo.hours.open_mask`, so hours may be written as
    people write them (``8:30-17:30``, ``24小时``, ``20:00-次日8:00``, ``周一至周五 9:00-17:00``) or in
    OpenStreetMap syntax; a range past midnight belongs to the day it starts on, and hour 24 is
    midnight (hour 0 of the next day). Without ``weekday`` the answer must not depend on the day.
    Public holidays are not modelled.

    Raises
    ------
    CoverageError
        If some hours cannot be read (use :func:`placegeo.hours.open_mask` for <NA> instead), or
        depend on the weekday and no ``weekday`` is given.

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"open_24h": [True, False, "否"], "hours": [None, "8:00-20:00", "20:00-次日8:00"]})
    >>> open_at(pts, 23).tolist(), open_at(pts, 9).tolist(), open_at(pts, 24).tolist()
    ([True, False, True], [True, True, False], [True, False, True])
    >>> open_at(pd.DataFrame({"open_24h": [False], "hours": ["周一至周五 9:00-17:00"]}), 10, weekday=6).tolist()
    [False]
    """
    mask = _open_any_day(points, hour) if weekday is None else hours.open_mask(points, weekday=weekday, hour=hour)
    if mask.isna().any():
        i = int(np.flatnonzero(mask.isna().to_numpy())[0])
        text = points["hours"].iloc[i] if "hours" in points else None
        raise CoverageError(f"row {i + 1}: {hours.parse_hours(text).problem} (HH:MM-HH:MM ranges are read too); "
                            f"{int(mask.isna().sum())} point(s) have hours that cannot be read")
    return mask.astype(bool)


def _point_keys(points: pd.DataFrame, rows: np.ndarray) -> list:
    col = next((c for c in _ID_COLUMNS if c in points), None)
    return (points[col] if col else points.index.to_series()).iloc[rows].tolist()


def relief_reach(
    units: gpd.GeoDataFrame,
    relief_points: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    rule: CoverageRule | None = None,
    hour: float | None = None,
    weekday: int | None = None,
) -> gpd.GeoDataFrame:
    """Reach of the relief network: as :func:`travel_to_nearest`, counting only points open then.

    With ``hour`` (0-24) only points open at that hour on ``weekday`` (1 = Monday … 7 = Sunday) count,
    as :func:`placegeo.hours.open_mask` reads their ``open_24h`` and ``hours``; ``weekday`` may be left
    out when no point's hours depend on the day. Points whose hours cannot be read (or are missing on a
    point not open around the clock) are not counted and are listed by key in
    ``attrs['unknown_hours']``: they are reported, never taken as open or closed.
    ``attrs['open_points']`` says how many points counted.
    """
    if weekday is not None and hour is None:
        raise CoverageError(f"weekday = {weekday!r} was given without an hour; give hour= (0-24) as well")
    pts = relief_points
    unknown: list = []
    if hour is not None:
        mask = (_open_any_day(relief_points, hour) if weekday is None
                else hours.open_mask(relief_points, weekday=weekday, hour=hour))
        unknown = _point_keys(relief_points, np.flatnonzero(mask.isna().to_numpy()))
        pts = relief_points[mask.eq(True).fillna(False).to_numpy(dtype=bool)]
        if pts.empty:
            day = f" on weekday {weekday}" if weekday is not None else ""
            raise CoverageError(f"no relief point is open at {hour:g}:00{day}"
                                + (f" ({len(unknown)} have hours that cannot be read)" if unknown else ""))
    out = travel_to_nearest(units, pts, network=network, rule=rule)
    out.attrs.update({"open_points": len(pts), "hour": hour, "weekday": weekday, "unknown_hours": unknown})
    return out


# -- stored results ---------------------------------------------------------------------------------
COVERAGE_LAYERS = ("coverage_units", "coverage_gaps", "service_areas")


def write_coverage(
    atlas,
    result: gpd.GeoDataFrame,
    *,
    facilities: gpd.GeoDataFrame,
    facility_layer: str,
    target_min: int = 15,
    network: WalkNetwork | None = None,
    with_service_areas: bool = False,
) -> dict[str, int]:
    """Store a :func:`travel_to_nearest` result in an atlas with what it was computed from.

    ``coverage_units`` gets every unit with ``covered`` at ``target_min``, the circles, rule,
    speed and method used, the atlas revision computed from, the time, and ``sample`` (true
    when any input was sample data); ``coverage_gaps`` the gaps at ``target_min``, and with
    ``with_service_areas`` (and a network) ``service_areas``. All land in one transaction.
    Returns the number of features written per layer. :func:`read_coverage` reads them back.
    """
    rule: CoverageRule = result.attrs.get("rule", CoverageRule())
    if target_min not in rule.thresholds_min:
        raise CoverageError(f"target_min = {target_min}: the result has circles {rule.thresholds_min}; "
                            "give one of them")
    sample = bool(result.attrs.get("sample") or result["sample"].fillna(False).any()
                  or facilities["sample"].fillna(False).any() or (network is not None and network.sample))
    source = f"placegeo coverage of {facility_layer} ({result.attrs['method']})"
    stamp = {"facility_layer": facility_layer, "source": source, "sample": sample}
    units = result.assign(
        covered=result[f"covered_{target_min}min"], target_min=target_min,
        thresholds_min=",".join(map(str, rule.thresholds_min)), rule=rule.rule, speed_kmh=rule.speed_kmh,
        atlas_revision=atlas.revision, computed_at=pd.Timestamp.now("UTC").isoformat(timespec="seconds"), **stamp)
    gaps = coverage_gaps(result, threshold_min=target_min).assign(**stamp)
    written = {}
    with atlas.transaction():
        written["coverage_units"] = atlas.write("coverage_units", units)
        written["coverage_gaps"] = atlas.write("coverage_gaps", gaps)
        if with_service_areas and network is not None:
            areas = service_areas(facilities, network, minutes=target_min, rule=rule)
            written["service_areas"] = atlas.write("service_areas", areas.assign(**stamp))
    return written


def read_coverage(atlas) -> gpd.GeoDataFrame:
    """The coverage result stored by :func:`write_coverage`, as :func:`travel_to_nearest` returned it.

    ``covered_<t>min`` is rebuilt for every stored circle; ``attrs`` hold ``rule``, ``method``,
    ``target_min``, ``facility_layer``, ``atlas_revision``, ``computed_at`` and ``sample``, as stored.
    """
    units = atlas.read("coverage_units")
    if units.empty:
        raise CoverageError("the atlas's coverage results are empty; run `placegeo coverage --write`")
    stored = {c: units[c].iloc[0] for c in ("target_min", "thresholds_min", "rule", "speed_kmh", "method",
                                              "facility_layer", "atlas_revision", "computed_at")}
    if pd.isna(stored["target_min"]) or pd.isna(stored["thresholds_min"]):
        raise CoverageError("the atlas's coverage results do not say which circles they were computed for "
                            "(written by an older placegeo); run `placegeo coverage --write` again")
    rule = CoverageRule(thresholds_min=tuple(int(t) for t in str(stored["thresholds_min"]).split(",")),
                        rule=str(stored["rule"]), speed_kmh=float(stored["speed_kmh"]))
    circle = units["circle_min"]
    out = units.assign(**{f"covered_{t}min": (circle.notna() & (circle <= t)).fillna(False).astype(bool)
                          for t in rule.thresholds_min})
    out.attrs.update({"rule": rule, "method": str(stored["method"]), "target_min": int(stored["target_min"]),
                      "facility_layer": str(stored["facility_layer"]),
                      "atlas_revision": None if pd.isna(stored["atlas_revision"]) else str(stored["atlas_revision"]),
                      "computed_at": None if pd.isna(stored["computed_at"]) else str(stored["computed_at"]),
                      "sample": bool(units["sample"].fillna(False).any())})
    return out
