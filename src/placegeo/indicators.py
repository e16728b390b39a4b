"""The civil-affairs bureau's planning indicators, each with its definition, target and what it rests on.

One table answers the questions a plan is checked against: the share of residents aged 60+ within
the care circle, rural happiness-home (农村幸福院) coverage of administrative villages, elderly-care
beds per 100 older residents and the share of nursing beds, meal-point (长者助餐) reach, relief-point
reach by day and by night, years of burial demand the public-welfare cemeteries meet, and the
eco-burial share. Definitions, units, targets and the targets' sources are in
``data/indicators.yaml``; targets set by a city come from its profile's ``policy``
(:mod:`placegeo.cities`). The measuring is done by the engines: :mod:`placegeo.coverage` (walks on
the network, opening hours) and :mod:`placegeo.cemetery` (demand and capacity).

Examples
--------
>>> sorted(definitions())[:3]
['beds_per_100_60plus', 'care_circle_60plus', 'cemetery_years_met']
>>> definitions()["nursing_bed_share"]["target"]
0.55
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from scipy.spatial import cKDTree

from placegeo import coverage as cov
from placegeo.cemetery import BurialParams, meets_demand
from placegeo.cities import City, city_of_atlas, load_city
from placegeo.crs import to_metric
from placegeo.errors import IndicatorError, PlacegeoError
from placegeo.network import WalkNetwork
from placegeo.provenance import is_sample, provenance, sample_notice

__all__ = ["COLUMNS", "IndicatorError", "as_document", "compute_indicators", "definitions", "parameters_for"]

COLUMNS = ["indicator", "title_zh", "title_en", "area", "area_name", "value", "unit", "target", "meets",
           "target_source", "definition", "parameters", "method", "sample", "note"]
CITY = "city"
METHOD = "placegeo indicators over the atlas's layers (coverage and cemetery engines)"
HAPPINESS_HOME = "农村幸福院"
MEAL_POINT = "长者助餐站点"
_BY = {None: None, "district": "district_code", "town": "town_code"}


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    text = resources.files("placegeo").joinpath("data/indicators.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def definitions() -> dict[str, dict[str, Any]]:
    """Each indicator's titles, definition, unit, target (number, ``policy:KEY`` or None) and target source."""
    return _data()["indicators"]


def parameters_for(city: City, **given: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The indicators' parameters for ``city``: ``given`` (None = default), else the city's policy, else
    placegeo's defaults; and where each value came from.

    >>> params, basis = parameters_for(load_city("jinan"), night_hour=2)
    >>> params["care_min"], params["night_hour"], basis["night_hour"]
    (15, 2, 'given')
    """
    policy = {"care_min": city.policy["care_circle_min"], "care_target_share": city.policy["care_target_share"],
              "eco_target_share": city.policy["eco_burial_target_share"],
              "eco_target_year": city.policy["eco_burial_target_year"]}
    defaults = {"happiness_home_dist_m": "happiness_home_dist_m", "meal_min": "meal_circle_min",
                "relief_min": "relief_circle_min", "day_hour": "day_hour", "night_hour": "night_hour",
                "weekday": "weekday", "horizon_years": "cemetery_horizon_years"}
    unknown = set(given) - set(policy) - set(defaults)
    if unknown:
        raise IndicatorError(f"unknown indicator parameter(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted([*policy, *defaults]))}")
    params: dict[str, Any] = {}
    basis: dict[str, str] = {}
    for key, value in policy.items():
        params[key], basis[key] = value, f"city profile {city.name}: policy ({city.policy['basis'].strip()})"
    for key, name in defaults.items():
        entry = _data()["defaults"][name]
        params[key], basis[key] = entry["value"], entry["basis"]
    for key, value in given.items():
        if value is not None:
            params[key], basis[key] = value, "given"
    return params, basis


def _target(indicator: str, params: Mapping[str, Any]) -> float | None:
    target = definitions()[indicator]["target"]
    if isinstance(target, str):  # policy:KEY or defaults:KEY, resolved through the parameters
        key = {"policy:care_target_share": "care_target_share", "policy:eco_burial_target_share": "eco_target_share",
               "defaults:cemetery_horizon_years": "horizon_years"}[target]
        return float(params[key])
    return None if target is None else float(target)


def _row(indicator: str, area: str, area_name: str, value: float, *, params: Mapping[str, Any], shown: str,
         method: str, sample: bool, note: str = "") -> dict[str, Any]:
    d = definitions()[indicator]
    target = _target(indicator, params)
    ok = value is not None and np.isfinite(value)
    meets = None if target is None or not ok else bool(round(float(value), 6) >= target)
    return {"indicator": indicator, "title_zh": d["title_zh"], "title_en": d["title_en"], "area": area,
            "area_name": area_name, "value": round(float(value), 4) if ok else np.nan, "unit": d["unit"],
            "target": target, "meets": meets, "target_source": d["target_source"], "definition": d["definition"],
            "parameters": shown, "method": method, "sample": sample, "note": note}


def _areas(frame: pd.DataFrame, by: str | None) -> pd.Series:
    return pd.Series(CITY, index=frame.index) if by is None else frame[by].astype(str)


def _shares(result: gpd.GeoDataFrame, minutes: int, weight: str, by: str | None) -> pd.Series:
    """Share of ``weight`` within ``minutes`` per area, and for the city (index ``city``)."""
    w = result[weight].astype("float64")
    hit = w * result[f"covered_{minutes}min"].to_numpy(dtype=bool)
    city = pd.Series({CITY: hit.sum() / w.sum() if w.sum() > 0 else np.nan})
    if by is None:
        return city
    g = pd.DataFrame({"a": result[by].astype(str), "w": w, "h": hit}).groupby("a").sum()
    return pd.concat([(g["h"] / g["w"].where(g["w"] > 0)), city])


class _Context:
    """What every indicator reads: the layers, the network, names and parameters (read once)."""

    def __init__(self, atlas, city: City, params: dict[str, Any], by: str | None, network: WalkNetwork | None):
        self.atlas, self.city, self.params, self.by, self.network = atlas, city, params, by, network
        self.names = atlas.code_names()
        self.layers = set(atlas.layers())
        self.frames: dict[str, gpd.GeoDataFrame] = {}
        self.rule = cov.CoverageRule(thresholds_min=tuple(sorted({int(params["care_min"]), int(params["meal_min"]),
                                                                  int(params["relief_min"])})))
        self.method = self.rule.method(network)
        self.sample_inputs: dict[str, Any] = {"network": network}

    def read(self, layer: str) -> gpd.GeoDataFrame:
        if layer not in self.frames:
            if layer not in self.layers:
                raise IndicatorError(f"the atlas has no '{layer}' layer; import it (placegeo import FILE "
                                     f"--layer {layer}) to compute this indicator")
            self.frames[layer] = self.atlas.read(layer)
            self.sample_inputs[layer] = self.frames[layer]
        return self.frames[layer]

    def name(self, area: str) -> str:
        return "全市" if area == CITY else self.names.get(area, area)

    def sample(self, *inputs: Any) -> bool:
        return any(is_sample(x) for x in inputs)

    def rows(self, indicator: str, values: pd.Series, *, shown: str, method: str, sample: bool,
             note: str = "") -> list[dict[str, Any]]:
        return [_row(indicator, str(a), self.name(str(a)), v, params=self.params, shown=shown, method=method,
                     sample=sample, note=note) for a, v in values.items()]


def _walk_share(ctx: _Context, indicator: str, facilities: gpd.GeoDataFrame, minutes: int, weight: str,
                *, shown: str, hour: float | None = None) -> list[dict[str, Any]]:
    units = ctx.read("population_units")
    if hour is None:
        result = cov.travel_to_nearest(units, facilities, network=ctx.network, rule=ctx.rule)
        note = ""
    else:
        result = cov.relief_reach(units, facilities, network=ctx.network, rule=ctx.rule, hour=hour,
                                  weekday=int(ctx.params["weekday"]))
        unknown = result.attrs.get("unknown_hours") or []
        note = f"{result.attrs['open_points']} of {len(facilities)} points open" + (
            f"; {len(unknown)} with hours that cannot be read, not counted" if unknown else "")
    return ctx.rows(indicator, _shares(result, minutes, weight, ctx.by), shown=shown, method=result.attrs["method"],
                    sample=bool(result.attrs["sample"]), note=note)


def _care(ctx: _Context) -> list[dict[str, Any]]:
    m = int(ctx.params["care_min"])
    return _walk_share(ctx, "care_circle_60plus", ctx.read("elderly_facilities"), m, "residents_60plus",
                       shown=f"{m} min ({ctx.rule.threshold_m(m):,.0f} m walk), any facility type")


def _meal(ctx: _Context) -> list[dict[str, Any]]:
    fac = ctx.read("elderly_facilities")
    m = int(ctx.params["meal_min"])
    return _walk_share(ctx, "meal_point_reach", fac[fac["type"] == MEAL_POINT], m, "residents_60plus",
                       shown=f"{m} min ({ctx.rule.threshold_m(m):,.0f} m walk) to a {MEAL_POINT}")


def _relief(ctx: _Context, indicator: str, hour_key: str) -> list[dict[str, Any]]:
    m, hour = int(ctx.params["relief_min"]), float(ctx.params[hour_key])
    return _walk_share(ctx, indicator, ctx.read("relief_points"), m, "residents",
                       shown=f"{m} min ({ctx.rule.threshold_m(m):,.0f} m walk), open at {hour:g}:00 on weekday "
                             f"{ctx.params['weekday']}", hour=hour)


def _relief_day(ctx: _Context) -> list[dict[str, Any]]:
    return _relief(ctx, "relief_reach_day", "day_hour")


def _relief_night(ctx: _Context) -> list[dict[str, Any]]:
    return _relief(ctx, "relief_reach_night", "night_hour")


def _beds(ctx: _Context) -> list[dict[str, Any]]:
    fac, units = ctx.read("elderly_facilities"), ctx.read("population_units")
    beds = pd.to_numeric(fac["beds"], errors="coerce").fillna(0).groupby(_areas(fac, ctx.by)).sum()
    nursing = pd.to_numeric(fac["nursing_beds"], errors="coerce").fillna(0).groupby(_areas(fac, ctx.by)).sum()
    old = units["residents_60plus"].astype("float64").groupby(_areas(units, ctx.by)).sum()
    if ctx.by is not None:
        beds, nursing = pd.concat([beds, pd.Series({CITY: beds.sum()})]), pd.concat(
            [nursing, pd.Series({CITY: nursing.sum()})])
        old = pd.concat([old, pd.Series({CITY: old.sum()})])
    areas = old.index.union(beds.index)
    beds, nursing, old = beds.reindex(areas).fillna(0), nursing.reindex(areas).fillna(0), old.reindex(areas)
    sample = ctx.sample(fac, units)
    per_100 = beds / old.where(old > 0) * 100
    share = nursing / beds.where(beds > 0)
    return [*ctx.rows("beds_per_100_60plus", per_100, shown="all facility types; residents 60+ of the census",
                      method="sum of beds / residents 60+ x 100", sample=sample),
            *ctx.rows("nursing_bed_share", share, shown="all facility types", method="sum of nursing beds / beds",
                      sample=ctx.sample(fac))]


def _villages(ctx: _Context) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None]:
    """Administrative villages of the code tree (code, town_code, district_code) and their points if any."""
    codes = ctx.atlas.codes
    suffixes = tuple(_data()["village_suffixes"])
    v = codes[(codes["level"] == "village") & codes["name"].astype(str).str.endswith(suffixes)]
    towns = codes[codes["level"] == "town"].set_index("code")["parent_code"]
    villages = pd.DataFrame({"code": v["code"].astype(str).to_numpy(),
                             "town_code": v["parent_code"].astype(str).to_numpy()})
    villages["district_code"] = villages["town_code"].map(towns).astype(str)
    points = None
    if "admin_units" in ctx.layers:
        au = ctx.read("admin_units")
        au = au[au["level"] == "village"]
        if len(au):
            points = au.assign(geometry=au.geometry.representative_point())[["code", "sample", "geometry"]]
    if points is None and "place_names" in ctx.layers:
        pn = ctx.read("place_names")
        pn = pn[(pn["category"] == "村居") & pn["village_code"].notna()].drop_duplicates("village_code")
        if len(pn):
            points = pn.rename(columns={"village_code": "code"})[["code", "sample", "geometry"]]
    if points is not None:
        points = points[points["code"].astype(str).isin(villages["code"])]
    return villages, (points if points is not None and len(points) else None)


def _happiness_homes(ctx: _Context) -> list[dict[str, Any]]:
    fac = ctx.read("elderly_facilities")
    homes = fac[fac["type"] == HAPPINESS_HOME]
    villages, points = _villages(ctx)
    dist = float(ctx.params["happiness_home_dist_m"])
    if len(villages) == 0:
        return ctx.rows("happiness_home_villages", pd.Series({CITY: np.nan}), shown="", method="",
                        sample=False, note="the code tree has no administrative villages")
    if points is not None and len(homes):
        mp = to_metric(points)
        mh = homes.to_crs(mp.crs)
        d, _ = cKDTree(np.column_stack([mh.geometry.x, mh.geometry.y])).query(
            np.column_stack([mp.geometry.x, mp.geometry.y]))
        served = pd.Series(d <= dist, index=points["code"].astype(str).to_numpy())
        villages = villages[villages["code"].isin(served.index)].assign(served=lambda x: x["code"].map(served))
        method = f"straight line from each village's point to the nearest {HAPPINESS_HOME}"
        shown, note = f"within {dist:,.0f} m (straight line)", ""
        sample = ctx.sample(homes, points)
    else:  # no village positions: a town's homes serve as many of its villages as there are homes
        per_town = homes.groupby(homes["town_code"].astype(str)).size()
        n = villages.groupby("town_code")["code"].transform("size")
        rank = villages.groupby("town_code").cumcount()
        villages = villages.assign(served=rank < villages["town_code"].map(per_town).fillna(0).clip(upper=n))
        method = f"count per town: one village served per {HAPPINESS_HOME} in its town"
        shown = "no village positions in the atlas (distance not used)"
        note = "the atlas has no village points (admin_units at village level or place_names); counted per town"
        sample = ctx.sample(homes)
    by = ctx.by or "city"
    areas = villages[by] if ctx.by else pd.Series(CITY, index=villages.index)
    share = villages["served"].astype(float).groupby(areas.astype(str)).mean()
    if ctx.by is not None:
        share = pd.concat([share, pd.Series({CITY: villages["served"].mean()})])
    return ctx.rows("happiness_home_villages", share, shown=shown, method=method, sample=sample, note=note)


def _cemetery(ctx: _Context) -> list[dict[str, Any]]:
    cem, units = ctx.read("cemeteries"), ctx.read("population_units")
    horizon = int(ctx.params["horizon_years"])
    params = BurialParams().with_(eco_share_target=float(ctx.params["eco_target_share"]),
                                  eco_target_year=int(ctx.params["eco_target_year"]))
    table = meets_demand(cem, units, horizon_years=horizon, params=params)
    years = table["years_until_full"].fillna(horizon)
    if ctx.by != "district_code":
        years = years.loc[[CITY]]
    notes = {a: f"not full within the {horizon}-year horizon" for a in years.index
             if pd.isna(table.loc[a, "years_until_full"])}
    rows = [_row("cemetery_years_met", str(a), ctx.name(str(a)), v, params=ctx.params,
                 shown=f"{horizon}-year horizon from {table.attrs['start_year']}; districts served by their own "
                       "cemeteries, the city pooled; BurialParams defaults", method=table.attrs["method"],
                 sample=bool(table.attrs["sample"]), note=notes.get(a, "")) for a, v in years.items()]
    built = cem[cem["status"].astype(str) != "planned"] if "status" in cem else cem
    eco = pd.to_numeric(built["eco_share"], errors="coerce")
    used = pd.to_numeric(built["used_plots"], errors="coerce").fillna(0).where(eco.notna(), 0)
    area = _areas(built, "district_code" if ctx.by == "district_code" else None)
    num, den = (eco.fillna(0) * used).groupby(area).sum(), used.groupby(area).sum()
    if ctx.by == "district_code":
        num, den = pd.concat([num, pd.Series({CITY: num.sum()})]), pd.concat([den, pd.Series({CITY: den.sum()})])
    share = num / den.where(den > 0)
    rows += ctx.rows("eco_burial_share", share, shown=f"target by {int(ctx.params['eco_target_year'])}",
                     method="eco_share of built cemeteries weighted by used plots", sample=ctx.sample(cem))
    return rows


_INDICATORS: dict[str, Callable[[_Context], list[dict[str, Any]]]] = {
    "care_circle_60plus": _care, "happiness_home_villages": _happiness_homes, "beds_per_100_60plus": _beds,
    "meal_point_reach": _meal, "relief_reach_day": _relief_day, "relief_reach_night": _relief_night,
    "cemetery_years_met": _cemetery,
}


def _failed(ctx: _Context, names: list[str], exc: Exception) -> list[dict[str, Any]]:
    return [_row(n, CITY, ctx.name(CITY), np.nan, params=ctx.params, shown="", method="", sample=False,
                 note=f"not computed: {exc}") for n in names]


def compute_indicators(
    atlas,
    *,
    by: str | None = None,
    city: str | City | None = None,
    network: WalkNetwork | None = None,
    use_network: bool = True,
    care_min: int | None = None,
    care_target_share: float | None = None,
    meal_min: int | None = None,
    relief_min: int | None = None,
    day_hour: float | None = None,
    night_hour: float | None = None,
    weekday: int | None = None,
    happiness_home_dist_m: float | None = None,
    horizon_years: int | None = None,
    eco_target_share: float | None = None,
    eco_target_year: int | None = None,
) -> pd.DataFrame:
    """Every indicator of ``data/indicators.yaml`` for an atlas, for the city and, with ``by``, per area.

    Parameters
    ----------
    atlas : Atlas
        The atlas; its city profile (:func:`placegeo.cities.city_of_atlas`) gives the policy targets.
    by : {None, 'district', 'town'}
        Also one row per district or town (cemetery indicators: per district only).
    city : str or City, optional
        The profile to use instead of the atlas's.
    network : WalkNetwork, optional
        The walking network (default: the atlas's ``walk_edges`` when ``use_network``; else straight
        lines times the detour factor).
    care_min, care_target_share, meal_min, relief_min, day_hour, night_hour, weekday, happiness_home_dist_m,
    horizon_years, eco_target_share, eco_target_year
        Override the city profile's policy and placegeo's defaults (:func:`parameters_for`).

    Returns
    -------
    DataFrame
        One row per indicator and area, columns :data:`COLUMNS`. ``value`` is NaN (and ``note`` says
        why) where an indicator cannot be computed from this atlas. ``attrs``: provenance
        (``method``, ``parameters``, ``sample``, ``sample_inputs``), ``parameter_sources``,
        ``atlas_revision`` and ``city``.
    """
    if by not in _BY:
        raise IndicatorError(f"by = {by!r}; use None (the city), 'district' or 'town'")
    profile = city if isinstance(city, City) else (load_city(city) if city else city_of_atlas(atlas))
    params, basis = parameters_for(profile, care_min=care_min, care_target_share=care_target_share,
                                   meal_min=meal_min, relief_min=relief_min, day_hour=day_hour,
                                   night_hour=night_hour, weekday=weekday,
                                   happiness_home_dist_m=happiness_home_dist_m, horizon_years=horizon_years,
                                   eco_target_share=eco_target_share, eco_target_year=eco_target_year)
    if network is None and use_network and "walk_edges" in atlas.layers():
        network = WalkNetwork.from_edges(atlas.read("walk_edges"))
    try:
        ctx = _Context(atlas, profile, params, _BY[by], network)
    except PlacegeoError as exc:
        raise IndicatorError(f"indicator parameters: {exc}") from exc
    rows: list[dict[str, Any]] = []
    for name, fn in _INDICATORS.items():
        try:
            rows += fn(ctx)
        except PlacegeoError as exc:  # one indicator's missing data does not stop the others
            covered = ["beds_per_100_60plus", "nursing_bed_share"] if name == "beds_per_100_60plus" else (
                ["cemetery_years_met", "eco_burial_share"] if name == "cemetery_years_met" else [name])
            rows += _failed(ctx, covered, exc)
    table = pd.DataFrame(rows, columns=COLUMNS)
    order = {n: i for i, n in enumerate(definitions())}
    table = table.assign(_o=table["indicator"].map(order), _c=table["area"] != CITY).sort_values(
        ["_o", "_c", "area"], kind="stable").drop(columns=["_o", "_c"]).reset_index(drop=True)
    table.attrs.update({**provenance(method=f"{METHOD}; walks: {ctx.method}", parameters={**params, "by": by},
                                     inputs=ctx.sample_inputs),
                        "parameter_sources": basis, "atlas_revision": atlas.revision, "city": profile.name})
    return table


def as_document(table: pd.DataFrame) -> dict[str, Any]:
    """The indicators as one JSON-ready document (CLI ``--json`` and ``/api/indicators``): what they rest
    on first, then the rows."""
    a = table.attrs
    return {"city": a.get("city"), "atlas_revision": a.get("atlas_revision"), "method": a.get("method"),
            "parameters": a.get("parameters", {}), "parameter_sources": a.get("parameter_sources", {}),
            "sample": a.get("sample", False), "sample_inputs": a.get("sample_inputs", []),
            "notice": sample_notice(a), "indicators": table}
