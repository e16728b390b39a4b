"""The layer registry: one declarative YAML file per layer under ``layers/``.

Each file names a layer, its Chinese and English titles, geometry type, primary
key and fields (type, required, enum, unit, range, pattern, aliases). The files
are checked against ``layers/layer.schema.json`` and then for consistency (the
primary key is a field, rules name real numeric fields, …). Two fields are added
to every layer: ``source`` (where each feature came from) and ``sample`` (true for
generated demonstration data, which must never pass for real data).

The registry is found, in order, at ``$PLACEGEO_LAYERS``, at ``layers/`` of a
source checkout, or inside the installed package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from placegeo._yamlcheck import checked_documents
from placegeo.errors import LayerNotFoundError, SchemaError

__all__ = ["FieldSpec", "LayerSpec", "get_layer", "layers_dir", "load_registry", "shorten_field_names",
           "validate_registry"]

ADMIN_CODE_DIGITS = {"district": 6, "town": 9, "village": 12}
COMMON_FIELDS: list[dict[str, Any]] = [
    {
        "name": "source",
        "title_zh": "数据来源",
        "type": "string",
        "required": True,
        "max_length": 200,
        "description": "Where the feature came from (dataset, office, file).",
        "aliases": ["来源", "数据来源"],
    },
    {
        "name": "sample",
        "title_zh": "示例数据",
        "type": "boolean",
        "required": True,
        "default": False,
        "description": "True for generated demonstration data that is not real.",
        "aliases": ["示例"],
    },
]
GEOMETRY_FAMILIES = {
    "Point": {"Point"},
    "MultiPoint": {"Point", "MultiPoint"},
    "LineString": {"LineString"},
    "MultiLineString": {"LineString", "MultiLineString"},
    "Polygon": {"Polygon"},
    "MultiPolygon": {"Polygon", "MultiPolygon"},
}


def layers_dir() -> Path:
    """The folder holding the layer definitions and the registry schema."""
    env = os.environ.get("PLACEGEO_LAYERS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    checkout = here.parent.parent / "layers"  # src/placegeo -> repository root
    if (checkout / "layer.schema.json").exists():
        return checkout
    return here / "_layers"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    title_zh: str = ""
    description: str = ""
    required: bool = False
    unique: bool = False
    enum: tuple[Any, ...] | None = None
    enum_aliases: dict[str, Any] = field(default_factory=dict)
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    pattern: str | None = None
    levels: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()
    default: Any = None

    @property
    def code_digits(self) -> tuple[int, ...]:
        """Allowed lengths of an admin code field (6, 9 and/or 12 digits)."""
        return tuple(ADMIN_CODE_DIGITS[lv] for lv in (self.levels or ADMIN_CODE_DIGITS))


@dataclass(frozen=True)
class LayerSpec:
    name: str
    title_zh: str
    title_en: str
    geometry: str
    primary_key: str
    fields: tuple[FieldSpec, ...]
    description: str = ""
    display_field: str = "name"
    rules: tuple[dict[str, Any], ...] = ()
    path: Path | None = None
    key_prefix: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def has_field(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    @property
    def field_titles(self) -> dict[str, str]:
        """The Chinese title of each field (what ``placegeo layers show`` prints)."""
        return {f.name: f.title_zh for f in self.fields}

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"layer '{self.name}' has no field '{name}'; its fields are {', '.join(self.columns)}")

    @property
    def geometry_types(self) -> set[str]:
        """Geometry types accepted on import (single parts are promoted to multi)."""
        return GEOMETRY_FAMILIES[self.geometry]


def _field_from_dict(d: dict[str, Any]) -> FieldSpec:
    kw = dict(d)
    for key in ("enum", "levels", "aliases"):
        if key in kw and kw[key] is not None:
            kw[key] = tuple(kw[key])
    return FieldSpec(**kw)


def _check_consistency(spec: dict[str, Any], where: str) -> list[str]:
    errors = []
    names = [f["name"] for f in spec["fields"]]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        errors.append(f"{where}: field names repeated: {', '.join(dupes)}")
    reserved = {f["name"] for f in COMMON_FIELDS} & set(names)
    if reserved:
        errors.append(f"{where}: {', '.join(sorted(reserved))} are added to every layer; remove them from 'fields'")
    if spec["primary_key"] not in names:
        errors.append(f"{where}: primary_key '{spec['primary_key']}' is not one of the fields")
    if spec.get("display_field", "name") not in names:
        errors.append(f"{where}: display_field '{spec.get('display_field', 'name')}' is not one of the fields")
    numeric = {f["name"] for f in spec["fields"] if f["type"] in ("integer", "number")}
    for rule in spec.get("rules", []):
        for name in rule["fields"]:
            if name not in numeric:
                errors.append(f"{where}: rule {rule['type']} names '{name}', which is not a numeric field")
    for f in spec["fields"]:
        for target in f.get("enum_aliases", {}).values():
            if "enum" not in f or target not in f["enum"]:
                errors.append(f"{where}: field '{f['name']}' maps an alias to '{target}', not one of its enum values")
        if "levels" in f and f["type"] != "admin_code":
            errors.append(f"{where}: field '{f['name']}' has levels but is not an admin_code")
        if f.get("min") is not None and f.get("max") is not None and f["min"] > f["max"]:
            errors.append(f"{where}: field '{f['name']}' has min above max")
    by_name = {f["name"]: f for f in spec["fields"]}
    for name, value in spec.get("defaults", {}).items():
        if name not in by_name:
            errors.append(f"{where}: defaults names '{name}', which is not one of the fields")
        elif "enum" in by_name[name] and value not in by_name[name]["enum"]:
            errors.append(f"{where}: the default of '{name}' ({value!r}) is not one of its enum values")
    return errors


def validate_registry(directory: Path | None = None) -> list[str]:
    """Check every layer file against the schema; return a list of problems (empty when all is well)."""
    directory = Path(directory) if directory else layers_dir()
    errors: list[str] = []
    seen: dict[str, str] = {}
    for path, spec in checked_documents(directory, "layer.schema.json", errors, what="layer definitions"):
        if spec["name"] in seen:
            errors.append(f"{path.name}: layer '{spec['name']}' is also defined in {seen[spec['name']]}")
        seen[spec["name"]] = path.name
        errors.extend(_check_consistency(spec, path.name))
    return errors


@lru_cache(maxsize=8)
def _load(directory: str) -> dict[str, LayerSpec]:
    errors = validate_registry(Path(directory))
    if errors:
        raise SchemaError(
            "the layer registry is invalid; fix these and run `placegeo layers validate`:\n"
            + "\n".join(f"  - {e}" for e in errors)
        )
    registry: dict[str, LayerSpec] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        fields = tuple(_field_from_dict(f) for f in [*raw["fields"], *COMMON_FIELDS])
        registry[raw["name"]] = LayerSpec(
            name=raw["name"],
            title_zh=raw["title_zh"],
            title_en=raw["title_en"],
            geometry=raw["geometry"],
            primary_key=raw["primary_key"],
            fields=fields,
            description=" ".join(raw.get("description", "").split()),
            display_field=raw.get("display_field", "name"),
            rules=tuple(raw.get("rules", [])),
            path=path,
            key_prefix=raw.get("key_prefix"),
            defaults=dict(raw.get("defaults", {})),
        )
    return registry


def load_registry(directory: Path | str | None = None) -> dict[str, LayerSpec]:
    """All layer definitions, by name (loaded once per folder).

    >>> sorted(load_registry())[:3]
    ['admin_units', 'cemeteries', 'coverage_gaps']
    """
    return _load(str(Path(directory).resolve() if directory else layers_dir().resolve()))


def get_layer(name: str, directory: Path | str | None = None) -> LayerSpec:
    """The definition of layer ``name``; a clear error lists the known layers otherwise."""
    registry = load_registry(directory)
    try:
        return registry[name]
    except KeyError:
        raise LayerNotFoundError(
            f"no layer named '{name}'; registered layers are: {', '.join(sorted(registry))}"
        , layer=name) from None


# DBF (Shapefile) field names hold at most 10 bytes: the registry's names cut to fit, the same way on
# export and when a Shapefile comes back in.
_ABBREVIATIONS = {
    "district": "dist", "code": "cd", "capacity": "cap", "plots": "plt", "reserved": "rsv", "residents": "res",
    "nursing": "nurs", "facility": "fac", "cemetery": "cem", "former": "fmr", "names": "nm", "name": "nm",
    "parent": "par", "feature": "ft", "type": "typ", "plus": "p", "share": "shr", "point": "pt",
    "open": "op", "number": "no", "travel": "trv", "time": "t", "minutes": "min", "covered": "cov",
    "population": "pop", "unit": "u", "town": "twn", "village": "vil", "category": "cat",
}


def shorten_field_names(names: Iterable[str], *, encoding: str = "utf-8", max_bytes: int = 10) -> dict[str, str]:
    """Map each field name to a unique DBF name of at most ``max_bytes`` bytes in ``encoding``.

    >>> shorten_field_names(["name", "district_code", "residents_60plus", "residents_65plus"])
    {'name': 'name', 'district_code': 'dist_cd', 'residents_60plus': 'res_60p', 'residents_65plus': 'res_65p'}
    """
    enc = "gbk" if encoding.lower().replace("-", "") in ("gbk", "cp936", "gb2312", "gb18030") else "utf-8"

    def fits(s: str) -> bool:
        return len(s.encode(enc)) <= max_bytes

    def cut(s: str) -> str:
        while not fits(s):
            s = s[:-1]
        return s

    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        short = name
        if not fits(short):
            parts = name.split("_")
            short = "_".join(_ABBREVIATIONS.get(p, p) for p in parts)
            short = re.sub(r"(\d+)plus", r"\1p", short)
            if not fits(short):
                short = "_".join(p[:4] for p in short.split("_"))
            short = cut(short)
        base, i = short, 1
        while short.lower() in used:
            suffix = str(i)
            short = cut(base[: max(1, len(base) - len(suffix))]) + suffix
            short = cut(short)
            i += 1
        used.add(short.lower())
        out[name] = short
    return out
