"""The planning report: one self-contained HTML page a planner can open offline and print to PDF.

It holds the indicators (:mod:`placegeo.indicators`), a static map per theme (elderly-care circles
with their gaps and suggested sites, relief points by day and night, cemeteries by free plots), the
cemetery scenarios chart, per-district tables, and the assumptions and sources: the provenance of
the results, the sources of the burial model's parameters and the figures the city publishes. When
any result rests on sample data a notice says so at the top.

Maps and charts are matplotlib figures written as inline SVG (large polygon layers rasterised inside
the SVG, so the file stays small); the page has no script and loads nothing from the network. The
template is ``data/report.html`` (Jinja2, every value escaped).
"""

from __future__ import annotations

import datetime as dt
import io
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from placegeo import coverage as cov
from placegeo.cemetery import PARAM_SOURCES, BurialParams, compare_scenarios, meets_demand, plot_scenarios
from placegeo.cities import City, city_of_atlas, load_city
from placegeo.errors import CoverageError, ReportError
from placegeo.indicators import compute_indicators, definitions
from placegeo.network import WalkNetwork
from placegeo.pinyin import romanize
from placegeo.provenance import SAMPLE_NOTICE, sample_notice

__all__ = ["ReportError", "build_report", "write_report"]

_SITES = 5
_SITE_CANDIDATES = 300  # candidates for suggested sites: the most older residents among uncovered units


def _svg(fig) -> Any:
    """A matplotlib figure as inline SVG markup (closed afterwards)."""
    import matplotlib.pyplot as plt
    from markupsafe import Markup

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", dpi=110)
    plt.close(fig)
    text = buf.getvalue()
    return Markup(text[text.index("<svg"):])  # drop the XML prolog and doctype: not allowed inside HTML


def _axes(title: str, districts: gpd.GeoDataFrame, sample: bool):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 8))
    districts.boundary.plot(ax=ax, color="#1f4e79", linewidth=0.8)
    ax.set_title(title + (f"\n({SAMPLE_NOTICE})" if sample else ""), color="#222" if not sample else "#b03a2e",
                 fontsize=11)
    ax.set_axis_off()
    miny, maxy = districts.total_bounds[[1, 3]]
    ax.set_aspect(1 / np.cos(np.radians((miny + maxy) / 2)))  # degrees: true shape at the city's latitude
    return fig, ax


def _rasterise(ax) -> None:
    for c in ax.collections:
        c.set_rasterized(True)


def _care_map(result: gpd.GeoDataFrame, gaps, sites, facilities, districts, minutes: int, sample: bool):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, ax = _axes(f"Elderly-care circles: walk to the nearest facility (target {minutes} min)", districts, sample)
    colours = {5: "#1a9850", 10: "#91cf60", 15: "#d9ef8b"}
    circle = result["circle_min"]
    base = len(ax.collections)
    result[circle.isna()].plot(ax=ax, color="#f4f4f4", linewidth=0)
    for t, colour in colours.items():
        part = result[circle == t]
        if len(part):
            part.plot(ax=ax, color=colour, linewidth=0)
    for c in ax.collections[base:]:
        c.set_rasterized(True)
    if len(gaps):
        gaps.boundary.plot(ax=ax, color="#d63031", linewidth=0.6)
    facilities.plot(ax=ax, color="#2e86c1", markersize=2)
    if len(sites):
        sites.plot(ax=ax, color="#8e44ad", marker="*", markersize=140, edgecolor="white", linewidth=0.5)
    handles: list[Any] = [Patch(color=c, label=f"within {t} min") for t, c in colours.items()]
    handles += [Patch(color="#f4f4f4", label="beyond the circles"),
                Patch(facecolor="none", edgecolor="#d63031", label="gap (populated, uncovered)"),
                Line2D([], [], color="#2e86c1", marker="o", ls="", ms=3, label=f"facilities ({len(facilities)})"),
                Line2D([], [], color="#8e44ad", marker="*", ls="", ms=10, label="suggested site")]
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    return _svg(fig)


def _relief_map(night: gpd.GeoDataFrame, points, open_night, districts, minutes: int, hours: tuple, sample: bool):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, ax = _axes(f"Relief points: reach within {minutes} min at {hours[1]:g}:00 (night)", districts, sample)
    base = len(ax.collections)
    reached = night[f"covered_{minutes}min"].to_numpy(dtype=bool)
    night[reached].plot(ax=ax, color="#fdd0a2", linewidth=0)
    for c in ax.collections[base:]:
        c.set_rasterized(True)
    points[~open_night].plot(ax=ax, color="#95a5a6", markersize=10)
    points[open_night].plot(ax=ax, color="#e67e22", markersize=14, edgecolor="#7e3f00", linewidth=0.4)
    ax.legend(handles=[Patch(color="#fdd0a2", label=f"within {minutes} min of a point open at night"),
                       Line2D([], [], color="#e67e22", marker="o", ls="", ms=5,
                              label=f"open at {hours[1]:g}:00 ({int(open_night.sum())})"),
                       Line2D([], [], color="#95a5a6", marker="o", ls="", ms=4,
                              label=f"open by day only ({int((~open_night).sum())})")],
              loc="lower left", fontsize=8, framealpha=0.9)
    return _svg(fig)


def _cemetery_map(cemeteries: gpd.GeoDataFrame, districts, sample: bool):
    from matplotlib.lines import Line2D

    fig, ax = _axes("Public-welfare cemeteries: free plots (circle area), built and planned", districts, sample)
    cap = pd.to_numeric(cemeteries["capacity_plots"], errors="coerce").fillna(0)
    used = pd.to_numeric(cemeteries["used_plots"], errors="coerce").fillna(0)
    free = (cap - used).clip(lower=0)
    size = 4 + 200 * np.sqrt(free / max(float(free.max()), 1.0))
    planned = (cemeteries["status"].astype(str) == "planned").to_numpy() if "status" in cemeteries else np.zeros(
        len(cemeteries), dtype=bool)
    for mask, colour in ((~planned, "#566573"), (planned, "#27ae60")):
        if mask.any():
            cemeteries[mask].plot(ax=ax, color=colour, alpha=0.6, markersize=size[mask], edgecolor="white",
                                  linewidth=0.3)
    ax.legend(handles=[Line2D([], [], color=c, marker="o", ls="", ms=6, alpha=0.6,
                              label=f"{lab} ({int(m.sum())})")
                       for m, c, lab in ((~planned, "#566573", "built"), (planned, "#27ae60", "planned"))],
              loc="lower left", fontsize=8, framealpha=0.9)
    return _svg(fig)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return "-"
    if unit == "share":
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int | np.integer) else str(value)


def _meets(value: Any) -> tuple[str, str]:
    if value is None or pd.isna(value):
        return "-", ""
    return ("yes", "yes") if bool(value) else ("NO", "no")


def _indicator_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in table.to_dict(orient="records"):
        text, cls = _meets(r["meets"])
        rows.append({**r, "value_text": _fmt(r["value"], r["unit"]), "target_text": _fmt(r["target"], r["unit"]),
                     "meets_text": text, "meets_class": cls})
    return rows


def _care_rows(summary: pd.DataFrame, circles: tuple[int, ...]) -> list[dict[str, Any]]:
    rows = []
    for code, r in summary.iterrows():
        text, cls = _meets(r["meets_target"])
        rows.append({"code": code, "name": r.get("name", ""), "residents": f"{int(r['residents']):,}",
                     "old": f"{int(r['residents_60plus']):,}",
                     "shares": [_fmt(r[f"share60_{t}min"], "share") for t in circles],
                     "meets_text": text, "meets_class": cls})
    return rows


def _cemetery_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for area, r in table.iterrows():
        text, cls = _meets(r["meets"])
        rows.append({"area": area, "name": r["name"], "demand": _fmt(r["demand_plots"]), "free": _fmt(r["free_plots"]),
                     "added": _fmt(r["added_plots"]), "meets_text": text, "meets_class": cls,
                     "short": _fmt(r["shortfall_plots"]), "short_ha": _fmt(r["shortfall_ha"]),
                     "full": "-" if pd.isna(r["full_year"]) else str(int(r["full_year"]))})
    return rows


def _site_rows(sites: gpd.GeoDataFrame, units: gpd.GeoDataFrame, names: dict[str, str]) -> list[dict[str, Any]]:
    if sites.empty:
        return []
    town = units.set_index(units["unit_id"].astype(str))["town_code"] if "unit_id" in units else pd.Series(dtype=str)
    return [{"rank": int(r.rank), "candidate_id": r.candidate_id,
             "town": names.get(str(town.get(str(r.candidate_id), "")), ""),
             "lon": f"{r.geometry.x:.5f}", "lat": f"{r.geometry.y:.5f}", "gain_60plus": f"{int(r.gain_60plus):,}",
             "gain_residents": f"{int(r.gain_residents):,}", "share": f"{r.covered_60plus_share:.1%}"}
            for r in sites.itertuples()]


def _gap_rows(gaps: gpd.GeoDataFrame, names: dict[str, str], limit: int = 10) -> list[dict[str, Any]]:
    return [{"gap_id": r["gap_id"], "district": names.get(str(r.get("district_code", "")), r.get("district_code", "")),
             "town": names.get(str(r.get("town_code", "")), r.get("town_code", "")),
             "residents": f"{int(r['residents']):,}", "old": f"{int(r['residents_60plus']):,}",
             "n_units": int(r["n_units"])} for r in gaps.head(limit).to_dict(orient="records")]


def build_report(atlas, *, city: str | City | None = None, network: WalkNetwork | None = None,
                 use_network: bool = True) -> str:
    """The planning report of an atlas as one HTML document (see the module's description).

    Parameters
    ----------
    atlas : Atlas
        An atlas with population units, elderly facilities, relief points and cemeteries.
    city : str or City, optional
        The profile giving targets and published figures (default: the atlas's city).
    network : WalkNetwork, optional
        Default: the atlas's ``walk_edges`` when ``use_network``, else straight lines.
    """
    import jinja2

    profile = city if isinstance(city, City) else (load_city(city) if city else city_of_atlas(atlas))
    needed = {"population_units", "elderly_facilities", "relief_points", "cemeteries", "admin_units"}
    missing = sorted(needed - set(atlas.layers()))
    if missing:
        raise ReportError(f"the atlas lacks {', '.join(missing)}; the report needs them "
                          "(build a demo with `placegeo demo` or import the layers)")
    if network is None and use_network and "walk_edges" in atlas.layers():
        network = WalkNetwork.from_edges(atlas.read("walk_edges"))
    table = compute_indicators(atlas, city=profile, network=network, use_network=use_network)
    params = table.attrs["parameters"]
    names = atlas.code_names()
    units, facilities = atlas.read("population_units"), atlas.read("elderly_facilities")
    relief, cemeteries = atlas.read("relief_points"), atlas.read("cemeteries")
    admin = atlas.read("admin_units")
    districts = admin[admin["level"] == "district"]
    care_min = int(params["care_min"])
    rule = cov.CoverageRule(thresholds_min=tuple(sorted({5, 10, 15, care_min})))
    care = cov.travel_to_nearest(units, facilities, network=network, rule=rule)
    summary = cov.coverage_summary(care, by="district_code", target_min=care_min,
                                   target_share=float(params["care_target_share"]), names=names)
    gaps = cov.coverage_gaps(care, threshold_min=care_min)
    try:
        sites = cov.suggest_sites(care, k=_SITES, minutes=care_min, network=network, max_candidates=_SITE_CANDIDATES)
        sites_note = "No candidate adds covered residents."
    except CoverageError as exc:
        sites, sites_note = care.iloc[:0][["geometry"]], str(exc)
    hours = (float(params["day_hour"]), float(params["night_hour"]))
    weekday = int(params["weekday"])
    relief_min = int(params["relief_min"])
    night = cov.relief_reach(units, relief, network=network, rule=rule, hour=hours[1], weekday=weekday)
    open_night = cov.open_at(relief, hours[1], weekday=weekday).to_numpy(dtype=bool) \
        if not night.attrs.get("unknown_hours") else np.zeros(len(relief), dtype=bool)
    burial = BurialParams().with_(eco_share_target=float(params["eco_target_share"]),
                                  eco_target_year=int(params["eco_target_year"]))
    horizon = int(params["horizon_years"])
    cem_table = meets_demand(cemeteries, units, horizon_years=horizon, params=burial, names=names)
    scenarios = {f"eco {t:.0%}": burial.with_(eco_share_target=t) for t in sorted({0.4, 0.6, 0.8,
                                                                                 burial.eco_share_target})}
    years, paths = compare_scenarios(cemeteries, units, scenarios, horizon_years=max(horizon, 30))
    labels = {code: romanize(name) for code, name in names.items() if len(code) == 6}
    results = [table, care, night, cem_table, years]
    notice = next((sample_notice(r.attrs) for r in results if r.attrs.get("sample")), None)
    if notice:  # name every input that holds sample data, across all the results
        merged = sorted({i for r in results for i in r.attrs.get("sample_inputs", [])})
        notice = sample_notice({"sample": True, "sample_inputs": merged})
    sample = notice is not None
    method_note = f"walks: {care.attrs['method']}"
    context = {
        "title": f"{profile.names['zh']} 民政设施规划报告 · {profile.names['en']} civil-affairs planning report",
        "revision": atlas.revision, "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": _version(), "city": profile.name, "notice": notice,
        "indicators": _indicator_rows(table[table["area"] == "city"]),
        "definitions": [{**definitions()[r["indicator"]], "indicator": r["indicator"], "method": r["method"] or "-"}
                        for r in table[table["area"] == "city"].to_dict(orient="records")],
        "maps": {"care": _care_map(care, gaps, sites, facilities, districts, care_min, sample),
                 "relief": _relief_map(night, relief, open_night, districts, relief_min, hours, sample),
                 "cemeteries": _cemetery_map(cemeteries, districts, sample)},
        "charts": {"scenarios": _svg(plot_scenarios(years, paths, labels=labels))},
        "captions": {
            "care": f"Population units by the smallest circle their walk reaches ({method_note}); red outlines: "
                    f"gaps, populated units beyond {care_min} min; stars: the {len(sites)} suggested sites.",
            "sites": f"Greedy maximal coverage over {_SITE_CANDIDATES} candidates (centres of the uncovered units "
                     f"with most older residents), existing facilities kept, {care_min}-minute circle.",
            "relief": f"{night.attrs['open_points']} of {len(relief)} points open at {hours[1]:g}:00 on weekday "
                      f"{weekday}; {method_note}.",
            "cemeteries": f"{len(cemeteries)} cemeteries; circle area proportional to free plots "
                          "(capacity - used).",
            "scenarios": f"Eco-burial scenarios over {max(horizon, 30)} years from {cem_table.attrs['start_year']}: "
                         "the city's free plots at each year end, and years until each district is full.",
        },
        "circles": rule.thresholds_min, "care_table": _care_rows(summary, rule.thresholds_min),
        "gaps": _gap_rows(gaps, names), "sites": _site_rows(sites, units, names), "sites_note": sites_note,
        "relief_name": profile.relief_network["name"], "cemetery_table": _cemetery_rows(cem_table),
        "method": table.attrs["method"],
        "parameters": [{"name": k, "value": _fmt(v), "basis": table.attrs["parameter_sources"].get(k, "")}
                       for k, v in params.items() if k != "by"],
        "sample_inputs": ", ".join(sorted({i for r in results for i in r.attrs.get("sample_inputs", [])})),
        "burial": [{"name": k, "value": _fmt(getattr(burial, k)), "source": s} for k, s in PARAM_SOURCES.items()],
        "published": [{"figure": p["figure"], "value": _fmt(p["value"]), "source": p["source"]}
                      for p in profile.published],
        "policy_basis": profile.policy["basis"].strip(),
        "layers": [{"layer": r["layer"], "features": f"{int(r['features']):,}", "sample_share":
                    f"{float(r['sample_share']):.0%}", "sources": r["sources"]}
                   for r in atlas.summary().to_dict(orient="records")],
    }
    template = resources.files("placegeo").joinpath("data/report.html").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(**context)


def _version() -> str:
    try:
        return metadata.version("placegeo")
    except metadata.PackageNotFoundError:  # a source checkout that was never installed
        return "(source)"


def write_report(atlas, out: str | Path, *, city: str | City | None = None, network: WalkNetwork | None = None,
                 use_network: bool = True) -> Path:
    """Write :func:`build_report` to ``out`` (an ``.html`` file, replaced whole); returns its path."""
    from placegeo.storage._atomic import write_text

    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ReportError(f"--out {out.name}: the report is an HTML page; give a file name ending in .html")
    if not out.parent.exists():
        raise ReportError(f"--out {out}: the folder {out.parent} does not exist; create it first")
    return write_text(out, build_report(atlas, city=city, network=network, use_network=use_network))
