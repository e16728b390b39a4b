"""Cemetery capacity planning: burial demand, years until full, eco-burial scenarios, access, relocation.

The method follows Chinese burial-facility plans (殡葬设施专项规划) and burial-space surveys:

1. **Demand** per area and year: residents (census base × annual growth) × crude death rate ×
   cremation share × share laid to rest in public-welfare facilities, split into land-saving eco
   burial (节地生态安葬: tree, flower, lawn, wall niches, sea) following a target path, and
   conventional ash graves. Graves needed = conventional burials ÷ remains per grave (double graves
   are common); eco plots = eco burials × the share of eco forms that take a plot (sea burial and
   scattering take none). Capacity is counted in standard plots (one conventional ash grave); an eco
   plot counts as its share of a standard plot's area, which is how eco burial saves capacity.
   Land = (graves × grave area + eco plots × eco plot area) ÷ net-to-gross.
2. **Capacity**: each cemetery's free plots (total − used − reserved), plus planned cemeteries from
   their opening year and planned expansions; a district's demand is shared each year among its open
   cemeteries in proportion to their design capacity, a full cemetery's share passing to the others.
3. **The planners' question** — do public-welfare cemeteries meet N years of demand? — per district
   (each district serves its own residents) and for the city (pooled), with the shortfall in plots
   and hectares.

All parameters live in :class:`BurialParams`, with documented defaults, units in their names and
range checks that name the parameter and its valid range. Each default carries its source in the
field's metadata (:data:`PARAM_SOURCES`): a published figure, or "planning assumption" where there
is none to cite. Every result carries its method, parameters and whether any input is sample data
in ``attrs`` (:func:`placegeo.provenance.provenance`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from placegeo.crs import to_metric
from placegeo.errors import ParameterError, PlacegeoError, Problem, ValidationError
from placegeo.provenance import SAMPLE_NOTICE, provenance
from placegeo.registry import get_layer

__all__ = [
    "PARAM_SOURCES",
    "BurialParams",
    "CapacityResult",
    "ParameterError",
    "RelocationResult",
    "access_map",
    "capacity_by_area",
    "cemetery_access",
    "compare_scenarios",
    "meets_demand",
    "plot_scenarios",
    "project_demand",
    "relocate_graves",
    "simulate_capacity",
]

CITY = "city"
DEMAND_METHOD = ("residents x crude death rate x cremation share x public-welfare share, "
                 "split into eco and conventional burial")
CAPACITY_METHOD = "year-by-year fill of free plots, demand shared by design capacity"
ACCESS_METHOD = "straight line to the nearest cemetery with free plots"


def _source(text: str) -> dict[str, str]:
    return {"source": text}


_ASSUMPTION = "planning assumption (no published figure): set it from the civil-affairs bureau's records"


@dataclass(frozen=True)
class BurialParams:
    """Assumptions of the burial demand model. Every field has a unit in its name or is a share (0-1).

    Attributes
    ----------
    base_year : int
        Year of the resident counts (the 2020 census).
    growth_rate_per_year : float
        Annual change of residents, e.g. 0.005 for +0.5% a year (range -0.1 to 0.1).
    death_rate_per_1000 : float or mapping of year to float
        Crude death rate, deaths per 1,000 residents a year (0-50); a mapping gives one per year.
        Default 7.2, close to Shandong's 7.25‰ of 2020. Checked in the tests against a city's count
        of deaths: the model must give at least the deceased residents who received the city's free
        basic funeral services, and not half as many again.

    The source of each default is in the field's metadata (``fields(BurialParams)``, or
    :data:`PARAM_SOURCES`).
    cremation_share : float
        Share of deaths cremated (Shandong: practically all).
    public_welfare_share : float
        Share of cremated remains laid to rest in public-welfare cemeteries and ash halls
        (the rest go to commercial cemeteries or elsewhere).
    eco_share_start, eco_share_target : float
        Share of eco burial in ``base_year`` and from ``eco_target_year`` on (linear in between).
        Jinan's target is 60% or more.
    eco_target_year : int
        Year the target share is reached.
    remains_per_grave : float
        Remains per conventional ash grave (1-4); double graves for couples make it above 1.
    eco_plot_share : float
        Share of eco burials that occupy a plot (tree, flower, lawn, wall niche); sea burial and
        scattering occupy none.
    grave_area_m2 : float
        Net area per conventional ash grave (the national norm is at most 1 m²).
    eco_plot_area_m2 : float
        Net area per eco plot (smaller than a grave).
    net_to_gross : float
        Share of a cemetery's gross area that is burial plots (the rest: paths, green, buildings).
    """

    base_year: int = field(default=2020, metadata=_source(
        "the seventh national census (第七次全国人口普查, 1 November 2020) gives the resident counts"))
    growth_rate_per_year: float = field(default=0.0, metadata=_source(
        "planning assumption: residents held at the census count; take the rate from the city's population "
        "forecast (国土空间总体规划)"))
    death_rate_per_1000: float | Mapping[int, float] = field(default=7.2, metadata=_source(
        "山东统计年鉴-2021 (Shandong Statistical Yearbook 2021): Shandong's crude death rate was 7.25‰ in 2020; "
        "7.36‰ in 2021 (Shandong statistical communiqué 2021); national 7.07‰ in 2020 (National Bureau of "
        "Statistics communiqué)"))
    cremation_share: float = field(default=1.0, metadata=_source(
        "planning assumption: cities in Shandong are cremation zones (火葬区) under the State Council's "
        "殡葬管理条例, so practically every death is cremated; lower it where burial-reform zones remain"))
    public_welfare_share: float = field(default=0.55, metadata=_source(_ASSUMPTION + " (公益性 vs 经营性 "
                                                                       "cemeteries and ash halls)"))
    eco_share_start: float = field(default=0.3, metadata=_source(_ASSUMPTION + " (eco burials in the base year)"))
    eco_share_target: float = field(default=0.6, metadata=_source(
        "target of the city's burial plan (its profile's policy.eco_burial_target_share: 60% or more in each plan "
        "collected); national guidance: 关于推行节地生态安葬的"
        "指导意见 (Ministry of Civil Affairs and others, 2016)"))
    eco_target_year: int = field(default=2030, metadata=_source("planning assumption: the plan's horizon"))
    remains_per_grave: float = field(default=1.6, metadata=_source(
        _ASSUMPTION + " (double graves 双穴 for couples put it above 1)"))
    eco_plot_share: float = field(default=0.7, metadata=_source(
        _ASSUMPTION + " (share of eco burials in tree, flower, lawn or wall plots rather than sea burial "
        "or scattering)"))
    grave_area_m2: float = field(default=1.0, metadata=_source(
        "公墓管理暂行办法 (Ministry of Civil Affairs, 1992): a single or double ash grave takes at most 1 m²"))
    eco_plot_area_m2: float = field(default=0.3, metadata=_source(_ASSUMPTION + " (net area of an eco plot)"))
    net_to_gross: float = field(default=0.6, metadata=_source(
        "planning assumption: share of a cemetery's land in plots, the rest paths, green and buildings"))
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for name, (lo, hi) in _PARAM_RANGES.items():
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) \
                    or not lo <= value <= hi:
                hint = " (write shares as 0-1, e.g. 0.6 for 60%)" if hi == 1.0 else ""
                raise ParameterError(f"{name} = {value!r} is outside its valid range {lo}-{hi}{hint}")
        if self.eco_target_year < self.base_year:
            raise ParameterError(f"eco_target_year {self.eco_target_year} is before base_year {self.base_year}")
        rates = self.death_rate_per_1000
        values = rates.values() if isinstance(rates, Mapping) else [rates]
        for v in values:
            if not isinstance(v, int | float) or not 0 <= v <= 50:
                raise ParameterError(f"death_rate_per_1000 = {v!r} is outside 0-50 deaths per 1,000 residents")

    @classmethod
    def from_policy(cls, policy: Mapping[str, Any], **changes: Any) -> BurialParams:
        """The defaults with a city's eco-burial target (``eco_burial_target_share`` and ``_year`` of a
        city profile's ``policy``), then ``changes``.

        >>> BurialParams.from_policy({"eco_burial_target_share": 0.6, "eco_burial_target_year": 2025}).eco_target_year
        2025
        """
        return cls().with_(eco_share_target=policy["eco_burial_target_share"],
                           eco_target_year=policy["eco_burial_target_year"], **changes)

    def with_(self, **changes: Any) -> BurialParams:
        """A copy with some parameters changed (checked again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ParameterError(f"unknown parameter(s) {', '.join(sorted(unknown))}; "
                                 f"known: {', '.join(f.name for f in fields(self))}")
        return replace(self, **changes)

    def death_rate(self, year: int) -> float:
        rates = self.death_rate_per_1000
        if isinstance(rates, Mapping):
            if year not in rates:
                raise ParameterError(f"death_rate_per_1000 has no rate for {year}; give one for every year "
                                     f"from {min(rates)} to the end of the horizon")
            return float(rates[year])
        return float(rates)

    def eco_share(self, year: int) -> float:
        if self.eco_target_year == self.base_year:
            return self.eco_share_target
        t = min(max((year - self.base_year) / (self.eco_target_year - self.base_year), 0.0), 1.0)
        return self.eco_share_start + (self.eco_share_target - self.eco_share_start) * t


PARAM_SOURCES: dict[str, str] = {f.name: f.metadata["source"] for f in fields(BurialParams) if "source" in f.metadata}
"""Where each default of :class:`BurialParams` comes from."""

_PARAM_RANGES = {  # valid range of each numeric parameter
    "base_year": (1949, 2100), "growth_rate_per_year": (-0.1, 0.1), "cremation_share": (0.0, 1.0),
    "public_welfare_share": (0.0, 1.0), "eco_share_start": (0.0, 1.0), "eco_share_target": (0.0, 1.0),
    "eco_target_year": (1949, 2100), "remains_per_grave": (1.0, 4.0), "eco_plot_share": (0.0, 1.0),
    "grave_area_m2": (0.05, 10.0), "eco_plot_area_m2": (0.0, 10.0), "net_to_gross": (0.05, 1.0),
}


def _check_years(start_year: int, end_year: int) -> None:
    if end_year < start_year:
        raise ParameterError(f"end year {end_year} is before start year {start_year}")
    if end_year - start_year > 200:
        raise ParameterError(f"a horizon of {end_year - start_year} years is too long; use at most 200")


def project_demand(
    population: pd.DataFrame,
    *,
    params: BurialParams | None = None,
    start_year: int = 2021,
    end_year: int = 2035,
    by: str = "district_code",
) -> pd.DataFrame:
    """Burials, plots and land needed per area and year.

    Parameters
    ----------
    population : DataFrame
        One row per resident unit with ``residents`` (in ``params.base_year``) and the area column ``by``;
        rows of the same area are summed (population units can be passed as they are).
    params : BurialParams, optional
        Model assumptions (defaults documented on :class:`BurialParams`).
    start_year, end_year : int
        The years to project, inclusive.
    by : str
        The area column: ``district_code`` or ``town_code``.

    Returns
    -------
    DataFrame
        Columns: area, year, residents, deaths, public_burials, eco_share, eco_burials,
        conventional_burials, graves_needed, eco_plots_needed, plots_needed (standard plots:
        graves + eco plots × eco_plot_area_m2 / grave_area_m2), land_m2, land_ha.

    Examples
    --------
    >>> import pandas as pd
    >>> pop = pd.DataFrame({"district_code": ["370102"], "residents": [100_000]})
    >>> p = BurialParams(death_rate_per_1000=10, public_welfare_share=0.5, eco_share_start=0.4,
    ...                  eco_share_target=0.4, remains_per_grave=1.5, eco_plot_share=0.5, eco_plot_area_m2=0.5)
    >>> d = project_demand(pop, params=p, start_year=2021, end_year=2021)
    >>> d.loc[0, ["deaths", "graves_needed", "eco_plots_needed", "plots_needed"]].tolist()
    [1000.0, 200.0, 100.0, 250.0]
    """
    params = params or BurialParams()
    _check_years(start_year, end_year)
    for col in (by, "residents"):
        if col not in population.columns:
            raise ParameterError(f"population has no column '{col}'; it has {', '.join(map(str, population.columns))}")
    res = pd.to_numeric(population["residents"], errors="coerce")
    if res.isna().any() or (res < 0).any():
        row = int(np.flatnonzero((res.isna() | (res < 0)).to_numpy())[0])
        raise ValidationError([Problem(row + 1, "residents", f"'{population['residents'].iloc[row]}' is not a "
                                       "resident count", "give a whole number of residents, 0 or more")])
    base = res.groupby(population[by].astype(str)).sum()
    years = np.arange(start_year, end_year + 1)
    eco_weight = params.eco_plot_area_m2 / params.grave_area_m2  # an eco plot in standard plots
    rows = []
    for year in years:
        residents = base * (1 + params.growth_rate_per_year) ** (year - params.base_year)
        deaths = residents * params.death_rate(int(year)) / 1000.0
        public = deaths * params.cremation_share * params.public_welfare_share
        eco_share = params.eco_share(int(year))
        eco = public * eco_share
        conventional = public - eco
        graves = conventional / params.remains_per_grave
        eco_plots = eco * params.eco_plot_share
        land_m2 = (graves * params.grave_area_m2 + eco_plots * params.eco_plot_area_m2) / params.net_to_gross
        rows.append(pd.DataFrame({
            "area": base.index, "year": int(year), "residents": residents.to_numpy(), "deaths": deaths.to_numpy(),
            "public_burials": public.to_numpy(), "eco_share": eco_share, "eco_burials": eco.to_numpy(),
            "conventional_burials": conventional.to_numpy(), "graves_needed": graves.to_numpy(),
            "eco_plots_needed": eco_plots.to_numpy(), "plots_needed": (graves + eco_plots * eco_weight).to_numpy(),
            "land_m2": land_m2.to_numpy(), "land_ha": (land_m2 / 10_000).to_numpy(),
        }))
    out = pd.concat(rows, ignore_index=True)
    out.attrs = provenance(method=DEMAND_METHOD, parameters={**_params_dict(params), "start_year": start_year,
                                                             "end_year": end_year, "by": by},
                           inputs={"population": population})
    return out


def _params_dict(params: BurialParams) -> dict[str, Any]:
    return {f.name: getattr(params, f.name) for f in fields(params) if f.name != "name"}


def _check_cemeteries(cem: pd.DataFrame) -> pd.DataFrame:
    """Typed copy of the cemetery columns the model needs; every bad value is reported at once."""
    need = ["cemetery_id", "capacity_plots", "used_plots", "district_code"]
    missing = [c for c in need if c not in cem.columns]
    if missing:
        raise ValidationError([Problem(None, c, "the column is missing", f"add '{c}'", "missing_field")
                               for c in missing], layer="cemeteries")
    out = pd.DataFrame({"cemetery_id": cem["cemetery_id"].astype(str).to_numpy(),
                        "district_code": cem["district_code"].astype(str).to_numpy()}, index=cem.index)
    problems = []
    for col in ("capacity_plots", "used_plots", "reserved_plots"):
        values = pd.to_numeric(cem[col], errors="coerce") if col in cem else pd.Series(0, index=cem.index)
        values = values.fillna(0) if col == "reserved_plots" else values
        for i in np.flatnonzero((values.isna() | (values < 0)).to_numpy()):
            problems.append(Problem(int(i) + 1, col, f"'{cem[col].iloc[i]}' is not a plot count of 0 or more",
                                    "give a whole number of plots", "range"))
        out[col] = values.fillna(0).to_numpy(dtype="float64")
    over = out["used_plots"] + out["reserved_plots"] > out["capacity_plots"]
    for i in np.flatnonzero(over.to_numpy()):
        problems.append(Problem(int(i) + 1, "used_plots", f"used {out['used_plots'].iat[i]:g} + reserved "
                                f"{out['reserved_plots'].iat[i]:g} plots exceed the capacity "
                                f"{out['capacity_plots'].iat[i]:g}", "correct the plot counts", "rule"))
    if problems:
        raise ValidationError(problems, layer="cemeteries")
    status = cem["status"].astype(str).to_numpy() if "status" in cem else np.full(len(cem), "built")
    year = pd.to_numeric(cem["year"], errors="coerce").to_numpy() if "year" in cem else np.full(len(cem), np.nan)
    out["opens"] = np.where(status == "planned", np.nan_to_num(year, nan=np.inf), -np.inf)
    return out


@dataclass
class CapacityResult:
    """Year-by-year capacity: per cemetery, per area, and the years each fills up."""

    by_cemetery: pd.DataFrame  # cemetery_id, year, is_open, free_start, added, intake, free_end
    by_area: pd.DataFrame  # area, year, demand_plots, intake_plots, unmet_plots, free_end
    cemetery_full_year: pd.Series  # NaN: not full within the horizon (or not open within it)
    area_full_year: pd.Series
    attrs: dict = field(default_factory=dict)  # provenance: method, parameters, sample


def simulate_capacity(
    cemeteries: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    expansions: pd.DataFrame | None = None,
    pooled: bool = False,
) -> CapacityResult:
    """Fill cemeteries year by year with the projected demand.

    Parameters
    ----------
    cemeteries : DataFrame
        ``cemetery_id``, ``district_code``, ``capacity_plots``, ``used_plots`` and optionally
        ``reserved_plots``, ``status`` (built/planned) and ``year`` (opening year of a planned one).
    demand : DataFrame
        From :func:`project_demand` (``area`` must be the district code).
    expansions : DataFrame, optional
        Planned additions: ``cemetery_id``, ``year``, ``added_plots``.
    pooled : bool
        Treat the whole city as one area (any cemetery serves anyone).

    Each year an area's demand is shared among its open cemeteries with free plots in proportion
    to their design capacity; what a full cemetery cannot take goes to the others. A planned
    cemetery brings its free plots in its opening year, with any expansion planned before it opens.
    A cemetery is full in the first year, once open, that its free plots reach zero; an area is full
    in the first year it cannot take its whole demand.
    """
    cem = _check_cemeteries(cemeteries)
    cem["area"] = CITY if pooled else cem["district_code"]
    dem = demand.copy()
    if pooled:
        dem = dem.groupby("year", as_index=False)["plots_needed"].sum().assign(area=CITY)
    years = np.sort(dem["year"].unique())
    opens = cem["opens"].to_numpy()
    free0 = (cem["capacity_plots"] - cem["used_plots"] - cem["reserved_plots"]).to_numpy(dtype="float64")
    released = opens <= years[0]  # open from the start: their free plots are there, not "added"
    free = np.where(released, free0, 0.0)
    pending = np.where(released, 0.0, free0)  # what a planned cemetery brings when it opens
    weight = cem["capacity_plots"].to_numpy(dtype="float64")
    add_by_year: dict[int, np.ndarray] = {}
    if expansions is not None and len(expansions):
        pos = {cid: i for i, cid in enumerate(cem["cemetery_id"])}
        for r in expansions.itertuples():
            if str(r.cemetery_id) not in pos:
                raise ParameterError(f"expansion for unknown cemetery '{r.cemetery_id}'")
            if r.added_plots < 0:
                raise ParameterError(f"expansion of '{r.cemetery_id}' in {r.year} adds {r.added_plots} plots; "
                                     "additions must be 0 or more")
            arr = add_by_year.setdefault(int(r.year), np.zeros(len(cem)))
            arr[pos[str(r.cemetery_id)]] += r.added_plots
    area_of = cem["area"].to_numpy()
    areas = sorted(set(area_of) | set(dem["area"]))
    demand_by = dem.set_index(["area", "year"])["plots_needed"]
    cem_rows, area_rows = [], []
    for year in years:
        is_open = opens <= year
        opening = is_open & ~released
        expansion = add_by_year.get(int(year), np.zeros(len(cem)))
        added = np.where(opening, pending, 0.0) + np.where(is_open, expansion, 0.0)
        pending = np.where(opening, 0.0, pending + np.where(is_open, 0.0, expansion))  # held until it opens
        released = released | opening
        free_start = free + added
        intake = np.zeros(len(cem))
        for area in areas:
            need = float(demand_by.get((area, year), 0.0))
            members = np.flatnonzero(area_of == area)
            left = need
            active = members[free_start[members] > 1e-9]
            while left > 1e-9 and len(active):
                w = weight[active] + 1e-9
                share = left * w / w.sum()
                take = np.minimum(share, free_start[active] - intake[active])
                intake[active] += take
                left -= take.sum()
                active = active[free_start[active] - intake[active] > 1e-9]
            area_rows.append((area, int(year), need, need - left, left,
                              float((free_start[members] - intake[members]).sum())))
        free = free_start - intake
        cem_rows.append(pd.DataFrame({"cemetery_id": cem["cemetery_id"].to_numpy(), "year": int(year),
                                      "is_open": is_open, "free_start": free_start, "added": added,
                                      "intake": intake, "free_end": free}))
    by_cem = pd.concat(cem_rows, ignore_index=True)
    by_area = pd.DataFrame(area_rows, columns=["area", "year", "demand_plots", "intake_plots", "unmet_plots",
                                               "free_end"])
    # a planned cemetery has no free plots before it opens: that is not being full
    full_cem = by_cem[by_cem["is_open"] & (by_cem["free_end"] <= 1e-6)].groupby("cemetery_id")["year"].min()
    full_cem = full_cem.reindex(cem["cemetery_id"])
    full_area = by_area[by_area["unmet_plots"] > 1e-6].groupby("area")["year"].min().reindex(areas)
    prov = provenance(method=CAPACITY_METHOD, parameters={"pooled": pooled},
                      inputs={"cemeteries": cemeteries, "expansions": expansions, "demand": demand},
                      based_on=demand.attrs)
    for frame in (by_cem, by_area, full_cem, full_area):
        frame.attrs = dict(prov)
    return CapacityResult(by_cem, by_area, full_cem, full_area, dict(prov))


def meets_demand(
    cemeteries: pd.DataFrame,
    population: pd.DataFrame,
    *,
    horizon_years: int = 10,
    params: BurialParams | None = None,
    start_year: int | None = None,
    expansions: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Do public-welfare cemeteries meet ``horizon_years`` of demand? Per district and for the city.

    Districts are served by their own cemeteries; the city row pools every cemetery. Shortfall is
    the demand the cemeteries cannot take within the horizon, in plots and in hectares of gross land.

    Returns
    -------
    DataFrame
        Index: district code and ``city``. Columns: name, demand_plots, free_plots (at the start),
        added_plots (openings and expansions within the horizon), meets, shortfall_plots,
        shortfall_ha, full_year, years_until_full (NaN when not full within the horizon).
    """
    params = params or BurialParams()
    if not isinstance(horizon_years, int) or not 1 <= horizon_years <= 100:
        raise ParameterError(f"horizon_years = {horizon_years!r}; use a whole number of years from 1 to 100")
    start = start_year if start_year is not None else params.base_year + 1
    demand = project_demand(population, params=params, start_year=start, end_year=start + horizon_years - 1)
    land_per_plot_m2 = demand["land_m2"].sum() / max(demand["plots_needed"].sum(), 1e-9)
    cem = _check_cemeteries(cemeteries).set_index("cemetery_id")
    out = []
    for pooled in (False, True):
        sim = simulate_capacity(cemeteries, demand, expansions=expansions, pooled=pooled)
        a = sim.by_area.groupby("area").agg(demand_plots=("demand_plots", "sum"), unmet=("unmet_plots", "sum"))
        per_cem = sim.by_cemetery[sim.by_cemetery["year"] == start].set_index("cemetery_id")
        cem_area = pd.Series(CITY if pooled else cem["district_code"], index=cem.index)
        start_free = (per_cem["free_start"] - per_cem["added"]).groupby(cem_area).sum()
        added = sim.by_cemetery.groupby("cemetery_id")["added"].sum().groupby(cem_area).sum()
        a["free_plots"] = start_free.reindex(a.index).fillna(0)
        a["added_plots"] = added.reindex(a.index).fillna(0)
        a["full_year"] = sim.area_full_year.reindex(a.index)
        out.append(a)
    table = pd.concat(out)
    table["meets"] = table["unmet"] <= 1e-6
    unmet = table["unmet"].clip(lower=0)
    table["shortfall_plots"] = unmet.round(0) + 0.0  # + 0.0: no "-0.0" in tables
    table["shortfall_ha"] = (unmet * land_per_plot_m2 / 10_000).round(2) + 0.0
    table["years_until_full"] = table["full_year"] - start
    table["demand_plots"] = table["demand_plots"].round(0)
    table["free_plots"] = table["free_plots"].round(0)
    table["added_plots"] = table["added_plots"].round(0)
    table.index.name = "area"
    table.insert(0, "name", [(names or {}).get(i, "全市" if i == CITY else i) for i in table.index])
    table = table.drop(columns="unmet")
    table.attrs = {"start_year": start, "horizon_years": horizon_years, "params": params,
                   **provenance(method=f"{CAPACITY_METHOD}; {DEMAND_METHOD}",
                                parameters={**_params_dict(params), "start_year": start,
                                            "horizon_years": horizon_years},
                                inputs={"cemeteries": cemeteries, "population": population,
                                        "expansions": expansions})}
    return table


def capacity_by_area(
    cemeteries: pd.DataFrame,
    population: pd.DataFrame,
    *,
    horizon_years: int = 10,
    params: BurialParams | None = None,
    start_year: int | None = None,
    expansions: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """:func:`meets_demand` with the network behind each row: cemeteries by level, built and planned.

    Returns
    -------
    DataFrame
        Index: district code and ``city``. Columns ``built_<level>`` (one per ``level`` value, e.g.
        built_市, built_县, built_镇, built_村), ``planned`` (cemeteries planned to open within the
        horizon) and ``planned_plots`` (their free plots), then the columns of :func:`meets_demand`.
    """
    table = meets_demand(cemeteries, population, horizon_years=horizon_years, params=params, start_year=start_year,
                         expansions=expansions, names=names)
    start, end = table.attrs["start_year"], table.attrs["start_year"] + horizon_years - 1
    cem = _check_cemeteries(cemeteries)
    level = cemeteries["level"].astype(str) if "level" in cemeteries else pd.Series("", index=cemeteries.index)
    built = cem["opens"] == -np.inf
    soon = (cem["opens"] >= start) & (cem["opens"] <= end)  # a plan opening after the horizon is left out
    counts = pd.crosstab(cem.loc[built, "district_code"], level[built])
    order: list[str] = list(get_layer("cemeteries").field("level").enum or [])  # 市, 县, 镇, 村: the layer's order
    counts = counts[sorted(counts.columns, key=lambda v: order.index(v) if v in order else len(order))]
    counts = counts.add_prefix("built_")
    free = cem["capacity_plots"] - cem["used_plots"] - cem["reserved_plots"]
    plan = pd.DataFrame({"planned": soon.groupby(cem["district_code"]).sum(),
                         "planned_plots": free.where(soon, 0).groupby(cem["district_code"]).sum()})
    network = counts.join(plan, how="outer").fillna(0).astype("int64")
    network.loc[CITY] = network.sum()
    out = network.reindex(table.index).fillna(0).astype("int64").join(table)
    out = out[["name", *network.columns, *[c for c in table.columns if c != "name"]]]
    out.attrs = dict(table.attrs)
    return out


def compare_scenarios(
    cemeteries: pd.DataFrame,
    population: pd.DataFrame,
    scenarios: Mapping[str, BurialParams],
    *,
    horizon_years: int = 30,
    start_year: int | None = None,
    expansions: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Years until full per district (and the city) under each scenario, and the city's free plots by year.

    Returns ``(years_until_full, city_free_plots)``: the first indexed by area with one column per
    scenario (NaN: not full within the horizon), the second indexed by year, one column per scenario.

    Examples
    --------
    >>> base = BurialParams()
    >>> scenarios = {f"eco {t:.0%}": base.with_(eco_share_target=t) for t in (0.4, 0.6, 0.8)}
    """
    if not scenarios:
        raise ParameterError("give at least one scenario")
    years_cols, paths = {}, {}
    for name, params in scenarios.items():
        start = start_year if start_year is not None else params.base_year + 1
        table = meets_demand(cemeteries, population, horizon_years=horizon_years, params=params,
                             start_year=start, expansions=expansions)
        years_cols[name] = table["years_until_full"]
        demand = project_demand(population, params=params, start_year=start, end_year=start + horizon_years - 1)
        sim = simulate_capacity(cemeteries, demand, expansions=expansions, pooled=True)
        paths[name] = sim.by_area.set_index("year")["free_end"]
    years, free_plots = pd.DataFrame(years_cols), pd.DataFrame(paths)
    prov = provenance(method=f"{CAPACITY_METHOD}; {DEMAND_METHOD}",
                      parameters={"horizon_years": horizon_years, "start_year": start_year,
                                  "scenarios": {name: _params_dict(p) for name, p in scenarios.items()}},
                      inputs={"cemeteries": cemeteries, "population": population, "expansions": expansions})
    years.attrs = {"horizon_years": horizon_years, **prov}
    free_plots.attrs = dict(prov)
    return years, free_plots


def plot_scenarios(years_until_full: pd.DataFrame, city_free_plots: pd.DataFrame, *, labels=None):
    """A matplotlib figure: the city's free plots by year per scenario, and years until full per district.

    ``labels`` maps area codes to display names (romanised names read well in any font).
    """
    import matplotlib.pyplot as plt

    horizon = years_until_full.attrs.get("horizon_years", int(np.nanmax(years_until_full.to_numpy(), initial=0)))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1.4]})
    for name in city_free_plots.columns:
        ax1.plot(city_free_plots.index, city_free_plots[name] / 1000, marker="o", ms=3, label=name)
    ax1.axhline(0, color="black", lw=0.8)
    ax1.set(title="City: free plots at year end", xlabel="year", ylabel="thousand plots")
    ax1.legend(title="scenario")
    shown = years_until_full.fillna(horizon).clip(upper=horizon)
    shown.index = [(labels or {}).get(i, i) for i in shown.index]
    shown.plot.barh(ax=ax2, width=0.8)
    ax2.axvline(10, color="crimson", ls="--", lw=1)
    ax2.text(10.2, -0.6, "10 years", color="crimson", fontsize=8)
    ax2.set(title=f"Years until full (bars at {horizon}: not full within the horizon)", xlabel="years")
    ax2.invert_yaxis()
    if years_until_full.attrs.get("sample"):
        fig.suptitle(SAMPLE_NOTICE, color="crimson", fontsize=10)
    fig.tight_layout()
    return fig


def _free_plots(cem: pd.DataFrame, year: int | None) -> np.ndarray:
    checked = _check_cemeteries(cem)
    free = (checked["capacity_plots"] - checked["used_plots"] - checked["reserved_plots"]).to_numpy()
    opened = checked["opens"].to_numpy() <= (year if year is not None else -np.inf)
    return np.where(opened | (checked["opens"].to_numpy() == -np.inf), free, 0.0)


def cemetery_access(
    units: gpd.GeoDataFrame,
    cemeteries: gpd.GeoDataFrame,
    *,
    threshold_km: float = 10.0,
    year: int | None = None,
    min_free_plots: int = 1,
) -> gpd.GeoDataFrame:
    """Straight-line distance from each unit (village, community, population unit) to the nearest
    public-welfare cemetery with free plots; units beyond ``threshold_km`` are flagged.

    ``year`` counts planned cemeteries that are open by then. Returns a copy of ``units`` with
    ``nearest_cemetery_id``, ``nearest_cemetery``, ``dist_km`` and ``beyond_threshold``.
    """
    if not threshold_km > 0:
        raise ParameterError(f"threshold_km = {threshold_km!r}; give a distance above 0 km")
    if len(units) == 0:
        raise ParameterError("units is empty; give the villages or population units to measure from")
    free = _free_plots(cemeteries, year)
    usable = free >= min_free_plots
    if not usable.any():
        raise ParameterError("no cemetery has free plots; nothing to measure to")
    metric_units = to_metric(units)
    metric_cem = cemeteries.to_crs(metric_units.crs)
    pts = metric_units.geometry.representative_point()
    tree = cKDTree(np.column_stack([metric_cem.geometry.x, metric_cem.geometry.y])[usable])
    dist_m, idx = tree.query(np.column_stack([pts.x, pts.y]))
    ids = cemeteries["cemetery_id"].to_numpy()[usable]
    out = units.copy()
    out["nearest_cemetery_id"] = ids[idx]
    if "name" in cemeteries:
        out["nearest_cemetery"] = cemeteries["name"].to_numpy()[usable][idx]
    out["dist_km"] = np.round(dist_m / 1000.0, 3)
    out["beyond_threshold"] = out["dist_km"] > threshold_km
    out.attrs = provenance(method=ACCESS_METHOD,
                           parameters={"threshold_km": threshold_km, "year": year, "min_free_plots": min_free_plots},
                           inputs={"units": units, "cemeteries": cemeteries})
    return out


def access_map(access: gpd.GeoDataFrame, cemeteries: gpd.GeoDataFrame, *, threshold_km: float | None = None):
    """A folium map of :func:`cemetery_access`: units beyond the threshold in red, cemeteries as dots.

    No basemap is loaded (it works offline); add one with ``folium.TileLayer(...).add_to(m)``.
    """
    import folium

    if "beyond_threshold" not in access:
        raise ParameterError("pass the result of cemetery_access(), which has the beyond_threshold column")
    view = access.to_crs(4326)
    cem = cemeteries.to_crs(4326)
    minx, miny, maxx, maxy = view.total_bounds
    m = folium.Map(tiles=None, control_scale=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    far = view[view["beyond_threshold"]]
    near = view[~view["beyond_threshold"]]
    keep = [c for c in ("unit_id", "name", "nearest_cemetery", "dist_km") if c in view.columns]
    for gdf, colour, label in ((near, "#6baed6", "within reach"), (far, "#d7301f", "beyond the threshold")):
        if len(gdf):
            folium.GeoJson(gdf[[*keep, "geometry"]].to_json(), name=f"units {label} ({len(gdf)})",
                           style_function=lambda _f, c=colour: {"color": c, "fillColor": c, "weight": 0.5,
                                                                "fillOpacity": 0.6},
                           tooltip=folium.GeoJsonTooltip(fields=keep)).add_to(m)
    group = folium.FeatureGroup(name=f"cemeteries ({len(cem)})").add_to(m)
    for r in cem.itertuples():
        folium.CircleMarker([r.geometry.y, r.geometry.x], radius=3, color="#252525", fill=True,
                            tooltip=str(getattr(r, "name", r.cemetery_id))).add_to(group)
    folium.LayerControl(collapsed=False).add_to(m)
    title = f"Units beyond {threshold_km:g} km of a cemetery with free plots" if threshold_km else "Cemetery access"
    if access.attrs.get("sample") or cemeteries.attrs.get("sample"):
        title += f" ({SAMPLE_NOTICE})"
    m.get_root().html.add_child(folium.Element(f"<h4 style='margin:4px'>{title}</h4>"))  # type: ignore[attr-defined]
    return m


@dataclass
class RelocationResult:
    """Where each scattered grave goes, what each cemetery receives, and what cannot be placed."""

    graves: gpd.GeoDataFrame  # input columns + cemetery_id, dist_km (NaN when unplaced), placed
    by_cemetery: pd.DataFrame  # cemetery_id, free_plots, received, left
    method: str

    @property
    def unplaced(self) -> gpd.GeoDataFrame:
        return self.graves[~self.graves["placed"]]

    @property
    def total_dist_km(self) -> float:
        return float(self.graves["dist_km"].sum())


def relocate_graves(
    graves: gpd.GeoDataFrame,
    cemeteries: gpd.GeoDataFrame,
    *,
    method: str = "optimal",
    k_nearest: int = 8,
    max_dist_km: float | None = None,
    year: int | None = None,
) -> RelocationResult:
    """Assign scattered graves (散埋乱葬) to cemeteries with free plots, never above a cemetery's free plots.

    ``method="optimal"`` minimises the total straight-line distance exactly: a min-cost flow
    (OR-Tools' network simplex) over each grave's ``k_nearest`` cemeteries, then every other
    grave-cemetery pair is priced against the solution's potentials and added if it could lower the
    total, until none can (column generation).
    ``method="greedy"`` sends each grave to the nearest cemetery that still has room (the usual
    practice, for comparison). Graves farther than ``max_dist_km`` from every cemetery with room,
    or beyond total capacity, are reported as not placed.
    """
    if method not in ("optimal", "greedy"):
        raise ParameterError(f"method = {method!r}; use 'optimal' or 'greedy'")
    if k_nearest < 1:
        raise ParameterError(f"k_nearest = {k_nearest}; use 1 or more")
    if max_dist_km is not None and not max_dist_km > 0:
        raise ParameterError(f"max_dist_km = {max_dist_km!r}; give a distance above 0 km, or None")
    if len(cemeteries) == 0:
        raise ParameterError("no cemeteries given")
    free = np.floor(_free_plots(cemeteries, year)).astype(np.int64)
    g = to_metric(graves) if len(graves) else graves.to_crs(cemeteries.crs)
    c = cemeteries.to_crs(g.crs)
    gxy = np.column_stack([g.geometry.x, g.geometry.y]) if len(g) else np.zeros((0, 2))
    cxy = np.column_stack([c.geometry.x, c.geometry.y])
    limit_m = max_dist_km * 1000 if max_dist_km is not None else np.inf
    if method == "greedy":
        assign, dist = _greedy(gxy, cxy, free, limit_m)
    else:
        assign, dist = _optimal(gxy, cxy, free, limit_m, k_nearest)
    out = graves.copy()
    ids = cemeteries["cemetery_id"].astype(str).to_numpy()
    placed = assign >= 0
    out["cemetery_id"] = np.where(placed, ids[np.clip(assign, 0, None)], None)
    out["dist_km"] = np.where(placed, dist / 1000.0, np.nan)
    out["placed"] = placed
    received = np.bincount(assign[placed], minlength=len(c))
    if (received > free).any():  # the promise: never above a cemetery's free plots
        raise AssertionError("relocation exceeded a cemetery's free plots")
    by_cem = pd.DataFrame({"cemetery_id": ids, "free_plots": free, "received": received,
                           "left": free - received})
    prov = provenance(method=f"{method} assignment by straight-line distance",
                      parameters={"method": method, "k_nearest": k_nearest, "max_dist_km": max_dist_km, "year": year},
                      inputs={"graves": graves, "cemeteries": cemeteries})
    out.attrs, by_cem.attrs = dict(prov), dict(prov)
    return RelocationResult(out, by_cem, method)


def _greedy(gxy, cxy, free, limit_m):
    n = len(gxy)
    assign = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    left = free.copy()
    tree = cKDTree(cxy)
    k = min(8, len(cxy))
    todo = np.arange(n)
    while len(todo) and (left > 0).any():
        d, idx = tree.query(gxy[todo], k=k)
        d, idx = d.reshape(len(todo), -1), idx.reshape(len(todo), -1)
        retry = []
        for row, i in enumerate(todo):
            for dj, j in zip(d[row], idx[row], strict=True):
                if dj > limit_m:
                    break
                if left[j] > 0:
                    left[j] -= 1
                    assign[i], dist[i] = j, dj
                    break
            else:
                if k < len(cxy):
                    retry.append(i)
        todo = np.asarray(retry, dtype=np.int64)
        k = min(k * 4, len(cxy))
    return assign, dist


def _optimal(gxy, cxy, free, limit_m, k_nearest, max_rounds: int = 50):
    """Exact assignment by column generation on a min-cost flow.

    Start from each grave's ``k_nearest`` cemeteries, solve a max-flow-min-cost problem with OR-Tools
    (network simplex; no supply/demand balance needed, so graves that cannot be placed simply stay
    out), then price every grave-cemetery pair against the exchange graph's potentials: a pair that
    would shorten some exchange is added and the flow solved again. When no pair prices out, the
    assignment is optimal over all pairs (to within a metre of rounding).
    """
    n, m = len(gxy), len(cxy)
    if n == 0:
        return np.full(0, -1, dtype=np.int64), np.full(0, np.nan)
    d, idx = cKDTree(cxy).query(gxy, k=min(k_nearest, m))
    d, idx = d.reshape(n, -1), idx.reshape(n, -1)
    keep = (d <= limit_m) & (free[idx] > 0)
    rows, cols = np.nonzero(keep)
    arc_i, arc_k, arc_c = rows, idx[rows, cols], np.rint(d[rows, cols]).astype(np.int64)
    for _ in range(max_rounds):
        assign = _solve_flow(n, free, arc_i, arc_k, arc_c)
        new_i, new_k, new_c = _improving_arcs(gxy, cxy, free, limit_m, assign, arc_i, arc_k, arc_c)
        if not len(new_i):
            break
        arc_i, arc_k, arc_c = (np.concatenate([arc_i, new_i]), np.concatenate([arc_k, new_k]),
                               np.concatenate([arc_c, new_c]))
    placed = assign >= 0
    dist = np.full(n, np.nan)
    dist[placed] = np.hypot(*(gxy[placed] - cxy[assign[placed]]).T)
    return assign, dist


_UNPLACED_COST = 10**9  # metres: more than any move, so leaving a grave out is never cheaper than placing it


def _solve_flow(n, free, arc_i, arc_k, arc_c):
    from ortools.graph.python import min_cost_flow

    m = len(free)
    smcf = min_cost_flow.SimpleMinCostFlow()
    # nodes: graves 0..n-1, cemeteries n..n+m-1, sink n+m
    tails = np.concatenate([arc_i, n + np.arange(m)])
    heads = np.concatenate([n + arc_k, np.full(m, n + m)])
    caps = np.concatenate([np.ones(len(arc_i)), free]).astype(np.int64)
    costs = np.concatenate([arc_c, np.zeros(m)]).astype(np.int64)
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + m + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[n + m] = -n
    smcf.set_nodes_supplies(np.arange(n + m + 1), supplies)
    status = smcf.solve_max_flow_with_min_cost()  # places as many graves as possible, at least cost
    if status != smcf.OPTIMAL:
        raise PlacegeoError(f"the relocation solver stopped with status {status}")
    chosen = smcf.flows(np.arange(len(arc_i))) > 0
    assign = np.full(n, -1, dtype=np.int64)
    assign[arc_i[chosen]] = arc_k[chosen]
    return assign


def _improving_arcs(gxy, cxy, free, limit_m, assign, arc_i, arc_k, arc_c, chunk: int = 4096):
    """Grave-cemetery pairs, outside the candidate arcs, whose reduced cost is negative.

    Exchange graph: nodes are the cemeteries, U (not placed) and S (spare room); arc j->k is the
    cheapest candidate move of one grave from j to k, k->S is free where k has room, S->j is free.
    Bellman-Ford gives potentials phi; a pair (grave i in j, cemetery k) with
    phi[j] + c_ik - c_ij < phi[k] would create a shorter exchange, so it joins the candidates.
    With a few hundred cemeteries this is milliseconds plus one pass over all pairs.
    """
    n, m = len(gxy), len(cxy)
    U, S = m, m + 1
    placed = assign >= 0
    src = np.where(placed, assign, U)
    cur = np.full(n, float(_UNPLACED_COST))
    cur[placed] = np.rint(np.hypot(*(gxy[placed] - cxy[assign[placed]]).T))
    w = np.full((m + 2, m + 2), np.inf)
    np.minimum.at(w, (src[arc_i], arc_k), arc_c - cur[arc_i])
    leave = np.full(m + 2, np.inf)
    np.minimum.at(leave, src[placed], _UNPLACED_COST - cur[placed])
    w[:, U] = np.minimum(w[:, U], leave)
    received = np.bincount(assign[placed], minlength=m)
    w[np.flatnonzero(np.append(free - received > 0, True)), S] = 0.0
    w[S, : m + 1] = 0.0
    np.fill_diagonal(w, np.inf)
    tol_m = 1.0  # distances are whole metres; less than a metre in all is rounding, not a gain
    phi = np.zeros(m + 2)
    for _ in range(m + 2):
        relaxed = (phi[:, None] + w).min(axis=0)
        better = relaxed < phi - tol_m
        if not better.any():
            break
        phi = np.where(better, relaxed, phi)
    usable = free > 0
    out_i, out_k, out_c = [], [], []
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        c = np.rint(np.hypot(gxy[a:b, 0, None] - cxy[None, :, 0], gxy[a:b, 1, None] - cxy[None, :, 1]))
        c[:, ~usable] = np.inf
        c[c > limit_m] = np.inf
        reduced = phi[src[a:b]][:, None] + c - cur[a:b][:, None] - phi[None, :m]
        gi, gk = np.nonzero(reduced < -tol_m)
        out_i.append(gi + a)
        out_k.append(gk)
        out_c.append(c[gi, gk].astype(np.int64))
    new_i, new_k, new_c = np.concatenate(out_i), np.concatenate(out_k), np.concatenate(out_c)
    if len(new_i):  # drop pairs that are candidates already (rounding can flag them)
        fresh = ~np.isin(new_i * m + new_k, arc_i * m + arc_k)
        new_i, new_k, new_c = new_i[fresh], new_k[fresh], new_c[fresh]
    return new_i, new_k, new_c
