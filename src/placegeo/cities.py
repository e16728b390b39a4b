"""City profiles: one declarative YAML file per city under ``cities/``.

A profile holds everything that differs from city to city: the code prefix, names, the map's
title, the relief network's name, the central districts, the demo's centre point, the metric
zone, policy defaults, local place-name readings, the figures the city publishes (with their
source, and how the demo atlas shows them), functional zones of the code tree (高新区 …), the
data files of its demo and the scale of its sample layers. The engines take these values from
here, so nothing city-specific lives in code.

Profiles are checked against ``cities/city.schema.json`` and then for consistency (every code
starts with the city's prefix, the metric zone is the Gauss-Kruger zone of the centre). The
folder is found, in order, at ``$PLACEGEO_CITIES``, at ``cities/`` of a source checkout, or
inside the installed package.

Examples
--------
>>> list_cities()
['jinan', 'jining', 'weifang']
>>> city = load_city("jining")
>>> city.names["zh"], city.relief_network["name"], city.metric_epsg
('济宁市', '救助点', 4548)
>>> city_for_code("370811002").name
'jining'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from placegeo._yamlcheck import checked_documents
from placegeo.crs import gk_zone_crs
from placegeo.errors import CityError

__all__ = ["City", "cities_dir", "city_for_code", "city_of_atlas", "list_cities", "load_city", "validate_cities"]

SCHEMA = "city.schema.json"


def cities_dir() -> Path:
    """The folder holding the city profiles and their schema."""
    env = os.environ.get("PLACEGEO_CITIES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    checkout = here.parent.parent / "cities"  # src/placegeo -> repository root
    if (checkout / SCHEMA).exists():
        return checkout
    return here / "_cities"


@dataclass(frozen=True)
class City:
    """One city's profile (see ``cities/city.schema.json`` for every key)."""

    name: str
    code_prefix: str
    names: dict[str, str]
    map_title: str
    relief_network: dict[str, str]
    central_districts: tuple[str, ...]
    centre: dict[str, Any]
    metric_epsg: int
    policy: dict[str, Any]
    readings: tuple[dict[str, str], ...]
    published: tuple[dict[str, Any], ...]
    functional_zones: tuple[dict[str, Any], ...]
    data: dict[str, str]
    demo: dict[str, Any]
    path: Path | None = None

    @property
    def centre_lonlat(self) -> tuple[float, float]:
        """The demo's centre point, CGCS2000 longitude and latitude."""
        return float(self.centre["lon"]), float(self.centre["lat"])

    @property
    def zone_codes(self) -> tuple[str, ...]:
        """Code-tree codes of the functional zones (高新区 …), which have no polygon of their own.

        >>> load_city("jining").zone_codes
        ('370871',)
        """
        return tuple(z["code"] for z in self.functional_zones)

    @property
    def zone_aliases(self) -> dict[str, str]:
        """Short names people search for, by zone code.

        >>> load_city("weifang").zone_aliases
        {'370772': '滨海区'}
        """
        return {z["code"]: z["alias"] for z in self.functional_zones}

    @property
    def census_codes(self) -> dict[str, str]:
        """Census code → code-tree code, where a zone's census code differs from its code-tree code."""
        return {z["census_code"]: z["code"] for z in self.functional_zones if z["census_code"] != z["code"]}

    @property
    def town_hosts(self) -> dict[str, str]:
        """Town code → the real district it lies in, for towns of functional zones."""
        return {town: host for z in self.functional_zones for town, host in z["hosts"].items()}

    def owns(self, code: str) -> bool:
        """True if ``code`` (6, 9 or 12 digits) belongs to this city."""
        return str(code).startswith(self.code_prefix)


def _consistency(p: dict[str, Any], where: str) -> list[str]:
    errors = []
    prefix = p["code_prefix"]
    codes = [("central_districts", c) for c in p["central_districts"]]
    codes.append(("relief_network/rescue_station_district", p["relief_network"]["rescue_station_district"]))
    for i, z in enumerate(p["functional_zones"]):
        codes += [(f"functional_zones/{i}/code", z["code"]), (f"functional_zones/{i}/census_code", z["census_code"])]
        codes += [(f"functional_zones/{i}/hosts", c) for pair in z["hosts"].items() for c in pair]
    for i, n in enumerate(p["demo"]["cemeteries"]["named"]):
        codes.append((f"demo/cemeteries/named/{i}/district", n["district"]))
    for at, code in codes:
        if not code.startswith(prefix):
            errors.append(f"{where}: at {at}: code {code} does not start with the city's code_prefix {prefix}")
    zone = gk_zone_crs(p["centre"]["lon"]).to_epsg()
    if p["metric_epsg"] != zone:
        errors.append(f"{where}: metric_epsg {p['metric_epsg']} is not the Gauss-Kruger zone of the centre's "
                      f"longitude {p['centre']['lon']}; use {zone}")
    for i, z in enumerate(p["functional_zones"]):
        bad = [t for t in z["hosts"] if not t.startswith(z["code"])]
        if bad:
            errors.append(f"{where}: at functional_zones/{i}/hosts: towns {', '.join(bad)} "
                          f"are not towns of {z['code']}")
    return errors


def validate_cities(directory: Path | str | None = None) -> list[str]:
    """Check every profile against the schema and for consistency; return the problems (empty if none).

    >>> validate_cities()
    []
    """
    directory = Path(directory) if directory else cities_dir()
    errors: list[str] = []
    prefixes: dict[str, str] = {}
    for path, p in checked_documents(directory, SCHEMA, errors, what="city profiles"):
        if p["code_prefix"] in prefixes:
            errors.append(f"{path.name}: code_prefix {p['code_prefix']} is also used by {prefixes[p['code_prefix']]}")
        prefixes[p["code_prefix"]] = path.name
        errors.extend(_consistency(p, path.name))
    return errors


@lru_cache(maxsize=8)
def _load(directory: str) -> dict[str, City]:
    errors = validate_cities(directory)
    if errors:
        raise CityError("the city profiles are invalid; fix these in the cities/ folder:\n"
                        + "\n".join(f"  - {e}" for e in errors))
    out = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        p = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[p["name"]] = City(
            name=p["name"], code_prefix=p["code_prefix"], names=p["names"], map_title=p["map_title"],
            relief_network=p["relief_network"], central_districts=tuple(p["central_districts"]),
            centre=p["centre"], metric_epsg=p["metric_epsg"], policy=p["policy"],
            readings=tuple(p["readings"]), published=tuple(p["published"]),
            functional_zones=tuple(p["functional_zones"]), data=p["data"], demo=p["demo"], path=path,
        )
    return out


def _cities(directory: Path | str | None) -> dict[str, City]:
    return _load(str(Path(directory).resolve() if directory else cities_dir().resolve()))


def list_cities(directory: Path | str | None = None) -> list[str]:
    """The names of the cities with a profile, sorted."""
    return sorted(_cities(directory))


def default_city(directory: Path | str | None = None) -> str:
    """The city used when none is named: ``$PLACEGEO_CITY``, else the first profile by name.

    >>> default_city() in list_cities()
    True
    """
    name = os.environ.get("PLACEGEO_CITY", "").strip().lower()
    return load_city(name, directory).name if name else list_cities(directory)[0]


def load_city(name: str, directory: Path | str | None = None) -> City:
    """The profile of city ``name`` (``jinan``, ``jining``, ``weifang`` …), validated.

    >>> load_city("weifang").map_title
    '潍坊地名查询'
    >>> load_city("qingdao")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    placegeo.errors.CityError: no city profile named 'qingdao'; known cities are jinan, jining, weifang (add ...)
    """
    cities = _cities(directory)
    key = str(name).strip().lower()
    if key not in cities:
        raise CityError(f"no city profile named '{name}'; known cities are {', '.join(sorted(cities))} "
                        f"(add cities/{key}.yaml to add one)")
    return cities[key]


def city_for_code(code: str, directory: Path | str | None = None) -> City:
    """The city whose code prefix starts ``code`` (an admin code of 4 to 12 digits).

    >>> city_for_code("370772004").names["zh"]
    '潍坊市'
    """
    text = str(code).strip()
    for city in _cities(directory).values():
        if text.startswith(city.code_prefix):
            return city
    known = ", ".join(f"{c.code_prefix} {c.name}" for c in _cities(directory).values())
    raise CityError(f"code {text!r} belongs to no city with a profile (known prefixes: {known})")


def city_of_atlas(atlas: Any, directory: Path | str | None = None) -> City:
    """The profile of the city an atlas holds: its ``city`` metadata (set by ``placegeo demo``), or
    else the city whose prefix its code tree starts with.

    >>> class Stub:  # anything with .meta and .codes, as an Atlas has
    ...     meta = {}
    ...     codes = __import__("pandas").DataFrame({"code": ["370811"]})
    >>> city_of_atlas(Stub()).name
    'jining'
    """
    name = atlas.meta.get("city")
    if name:
        return load_city(name, directory)
    codes = atlas.codes
    if len(codes):
        return city_for_code(str(codes["code"].iat[0]), directory)
    raise CityError("the atlas names no city and has no code tree; build it with `placegeo demo --city NAME` "
                    "or set its city with atlas.set_meta(city=NAME)")
