"""Place-name search that understands Chinese.

A query may be Chinese characters (exact, prefix or any part of a name), full pinyin with or without
spaces and tone marks (``baotuquan``, ``Bàotū Quán``), pinyin initials (``frj``), a mix (``芙rj``),
traditional characters (``長清``), a former name, or a name with a homophone typo (``芙容街``) or a
one-character slip. Every key is looked up in hash tables or sorted arrays, never by scanning the
names, so a query costs well under a millisecond on 200,000 names:

* exact name, full pinyin, initials: ``dict`` from key to record ids;
* prefixes: binary search in sorted key arrays;
* parts of names: a character-bigram inverted index;
* one-character slips: a deletion neighbourhood (SymSpell): every name with one character removed,
  hashed into a sorted ``int64`` array, so that two names one edit apart share a key.

Pinyin comes from :mod:`placegeo.pinyin` (place-name readings first), traditional characters are
folded to simplified ones with OpenCC. Ranking: exact, then prefix, former name, same pinyin,
initials, part of a name, pinyin prefix, slips; within a tier more important layers (traditional names, districts,
towns) and shorter names first.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import itertools
import json
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placegeo.errors import PlacegeoError, SearchError
from placegeo.pinyin import has_han, romanize, syllables, to_pinyin
from placegeo.registry import load_registry
from placegeo.storage._atomic import write_bytes
from placegeo.text import normalize

__all__ = ["NameRecord", "SearchError", "SearchIndex", "check_name", "normalize", "reverse_lookup"]

INDEX_VERSION = 5
LAYER_WEIGHT = {"traditional_place_names": 5, "admin_units": 4, "admin_codes": 2, "elderly_facilities": 3,
                "cemeteries": 2, "relief_points": 2}
TIERS = {"exact": 100, "prefix": 80, "former": 75, "homophone": 70, "initials": 65, "substring": 62,
         "pinyin_prefix": 60, "slip": 40}
_ADMIN_SUFFIXES = ("居民委员会", "村民委员会", "居委会", "村委会", "社区居委会")
# the usual short forms of development zones' names (济南高新技术产业开发区 is called 高新区), searched as aliases
_ZONE_SHORT_FORMS = {"高新技术产业开发区": "高新区", "经济技术开发区": "经开区", "经济开发区": "经开区",
                     "综合保税区": "综保区", "旅游度假区": "度假区"}


def _latin(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, without tones (ü as v, as typed on keyboards)."""
    syl = [s.replace("ü", "v") for s in syllables(name, tones=False) if s.strip()]
    syl = [s.lower() for s in syl if re.fullmatch(r"[a-zA-Z]+", s)]
    return "".join(syl), "".join(s[0] for s in syl)


def _deletions(text: str) -> list[str]:
    return [text[:i] + text[i + 1:] for i in range(len(text))]


def _h(keys) -> np.ndarray:
    return np.fromiter((hash(k) for k in keys), dtype=np.int64)


@dataclass
class NameRecord:
    """One named feature."""

    id: str
    name: str
    layer: str
    category: str = ""
    district_code: str = ""
    town_code: str = ""
    lon: float = float("nan")
    lat: float = float("nan")
    aliases: tuple[str, ...] = ()
    sample: bool = False
    importance: float = 0.0


@dataclass
class SearchIndex:
    """An index of every named feature of an atlas. Build with :meth:`from_atlas`, query with :meth:`search`.

    Examples
    --------
    >>> idx = SearchIndex.from_records([NameRecord("a", "芙蓉街", "traditional_place_names", "古城"),
    ...                                 NameRecord("b", "大明湖", "traditional_place_names", "泉水")])
    >>> [h.record.name for h in idx.query("frj")], [h.record.name for h in idx.query("芙容街")]
    (['芙蓉街'], ['芙蓉街'])
    >>> idx.query("dmh")[0].match
    'initials'
    """

    records: list[NameRecord]
    exact: dict[str, list[int]] = field(default_factory=dict)
    pinyin: dict[str, list[int]] = field(default_factory=dict)
    initials: dict[str, list[int]] = field(default_factory=dict)
    bigrams: dict[str, list[int]] = field(default_factory=dict)
    chars: dict[str, list[int]] = field(default_factory=dict)
    sorted_names: tuple[list[str], list[int]] = field(default_factory=lambda: ([], []))
    sorted_former: tuple[list[str], list[int]] = field(default_factory=lambda: ([], []))
    sorted_pinyin: tuple[list[str], list[int]] = field(default_factory=lambda: ([], []))
    sorted_initials: tuple[list[str], list[int]] = field(default_factory=lambda: ([], []))
    slip_hash: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    slip_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    rank: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # per record, for vectorised filtering and ranking
    codes: np.ndarray = field(default_factory=lambda: np.zeros((0, 16), dtype=np.uint32))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    layer_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    category_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    district_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    lonlat: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    meta: dict[str, Any] = field(default_factory=dict)

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: list[NameRecord]) -> SearchIndex:
        idx = cls(records=list(records))
        exact, py, ini = defaultdict(list), defaultdict(list), defaultdict(list)
        bigrams, chars = defaultdict(list), defaultdict(list)
        slip_keys: list[str] = []
        slip_ids: list[int] = []
        names_sorted, former_sorted, pinyin_sorted, initials_sorted = [], [], [], []
        for i, r in enumerate(idx.records):
            keys = {normalize(r.name)}
            short = _short_name(r.name)
            if short != r.name and len(short) >= 2:
                keys.add(normalize(short))
            aliases = {normalize(a) for a in r.aliases} - keys
            for k in keys:
                exact[k].append(i)
                names_sorted.append((k, i))
            for k in aliases:
                former_sorted.append((k, i))
            for k in keys | aliases:
                full, initial = _latin(k)
                if full:
                    py[full].append(i)
                    ini[initial].append(i)
                    pinyin_sorted.append((full, i))
                    initials_sorted.append((initial, i))
                for a, b in itertools.pairwise(k):
                    bigrams[a + b].append(i)
                for c in set(k):
                    chars[c].append(i)
                # slips: the key and each one-deletion of it, for characters and for pinyin (#-prefixed)
                if 2 <= len(k) <= 24:
                    for d in (k, *_deletions(k)):
                        slip_keys.append(d)
                        slip_ids.append(i)
                if 3 <= len(full) <= 40:
                    for d in (full, *_deletions(full)):
                        slip_keys.append("#" + d)
                        slip_ids.append(i)
        idx.exact, idx.pinyin, idx.initials = dict(exact), dict(py), dict(ini)
        weight = np.array([LAYER_WEIGHT.get(r.layer, 1) + r.importance for r in idx.records], dtype="float64")
        length = np.array([len(r.name) for r in idx.records], dtype="float64")
        idx.rank = weight * 100 - length  # within a tier: more important, then shorter
        # postings best first, so that a query takes the first ones without sorting
        idx.bigrams = {k: sorted(set(v), key=lambda i: -idx.rank[i]) for k, v in bigrams.items()}
        idx.chars = {k: sorted(set(v), key=lambda i: -idx.rank[i]) for k, v in chars.items()}
        for attr, pairs in (("sorted_names", names_sorted), ("sorted_former", former_sorted),
                            ("sorted_pinyin", pinyin_sorted),
                            ("sorted_initials", initials_sorted)):
            pairs.sort()
            setattr(idx, attr, ([p[0] for p in pairs], [p[1] for p in pairs]))
        hashes = _h(slip_keys)
        order = np.argsort(hashes, kind="stable")
        idx.slip_hash, idx.slip_ids = hashes[order], np.asarray(slip_ids, dtype=np.int32)[order]
        norm = [normalize(r.name)[:16] for r in idx.records]
        idx.lengths = np.array([len(k) for k in norm], dtype=np.int16)
        idx.codes = np.array([k.ljust(16, "\0") for k in norm], dtype="<U16").view(np.uint32).reshape(-1, 16) \
            if norm else np.zeros((0, 16), dtype=np.uint32)
        idx.layer_of = np.array([r.layer for r in idx.records], dtype=object)
        idx.category_of = np.array([r.category for r in idx.records], dtype=object)
        idx.district_of = np.array([r.district_code for r in idx.records], dtype=object)
        idx.lonlat = np.array([(r.lon, r.lat) for r in idx.records], dtype="float64").reshape(-1, 2)
        return idx

    @classmethod
    def from_atlas(cls, atlas) -> SearchIndex:
        """Every named feature of ``atlas``: traditional names with former names, admin units (and the
        villages and communities of the code tree, placed at their town), facilities, cemeteries, relief points.
        """
        stamp = atlas.revision  # taken first: data changed while reading gets a newer stamp, and a rebuild
        records: list[NameRecord] = []
        layers = set(atlas.layers())
        towns = {}
        registry = load_registry()
        for layer in LAYER_WEIGHT:
            if layer not in layers or layer not in registry:
                continue
            pk = registry[layer].primary_key
            gdf = atlas.read(layer)
            pts = gdf.geometry.representative_point() if layer == "admin_units" else gdf.geometry
            xy = shapely.get_coordinates(pts.values)
            category = gdf["category"] if "category" in gdf else gdf.get("type", gdf.get("kind", gdf.get("level")))
            for j, row in enumerate(gdf.itertuples(index=False)):
                aliases = tuple(a for a in str(getattr(row, "former_names", "") or "").split("、") if a and a != "nan")
                code = str(getattr(row, "district_code", "") or "")
                town = str(getattr(row, "town_code", "") or "")
                if layer == "admin_units":
                    code = row.code[:6]
                    town = row.code if row.level == "town" else ""
                    towns[row.code] = (xy[j, 0], xy[j, 1])
                    aliases = tuple(short for long, short in _ZONE_SHORT_FORMS.items() if str(row.name).endswith(long))
                records.append(NameRecord(f"{layer}:{getattr(row, pk)}", str(row.name), layer,
                                          str(category.iloc[j]) if category is not None else "",
                                          code, town if town != "<NA>" else "", float(xy[j, 0]), float(xy[j, 1]),
                                          aliases, bool(row.sample),
                                          1.0 if layer == "admin_units" and row.level == "district" else 0.0))
        codes = atlas.codes
        villages = codes[codes["level"] == "village"]
        for row in villages.itertuples(index=False):
            lon, lat = towns.get(row.parent_code, (float("nan"), float("nan")))
            records.append(NameRecord(f"admin_codes:{row.code}", row.name, "admin_codes", "village",
                                      row.code[:6], row.parent_code, lon, lat, (), False, 0.0))
        idx = cls.from_records(records)
        idx.meta = {"atlas": atlas.location, "stamp": stamp, "version": INDEX_VERSION}
        return idx

    # -- persistence ------------------------------------------------------------------------------
    # Saved as JSON and plain NumPy arrays in an .npz, never as a pickle: the index may come from a
    # shared database, and loading it must not be able to run code whoever wrote it.
    _ARRAYS = ("slip_hash", "slip_ids", "rank", "codes", "lengths", "lonlat")
    _POSTINGS = ("exact", "pinyin", "initials", "bigrams", "chars")
    _SORTED = ("sorted_names", "sorted_former", "sorted_pinyin", "sorted_initials")

    def to_bytes(self) -> bytes:
        """The index as bytes (an ``.npz`` of JSON and numeric arrays); see :meth:`from_bytes`."""
        names = [f.name for f in fields(NameRecord)]
        doc = {"meta": self.meta, "records": [[getattr(r, n) for n in names] for r in self.records],
               **{k: getattr(self, k) for k in self._POSTINGS}, **{k: list(getattr(self, k)) for k in self._SORTED}}
        text = np.frombuffer(json.dumps(doc, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez(buf, doc=text, **{k: getattr(self, k) for k in self._ARRAYS})
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SearchIndex:
        """An index saved by :meth:`to_bytes`; :class:`SearchError` if it is not one of this version."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                doc = json.loads(npz["doc"].tobytes().decode("utf-8"))
                arrays = {k: npz[k] for k in cls._ARRAYS}
        except (ValueError, KeyError, OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise SearchError(f"not a placegeo search index ({exc})") from None
        if not isinstance(doc, dict) or doc.get("meta", {}).get("version") != INDEX_VERSION:
            raise SearchError("not a search index of this placegeo version")
        names = [f.name for f in fields(NameRecord)]
        try:
            records = [NameRecord(**dict(zip(names, r, strict=True))) for r in doc["records"]]
            postings = {k: doc[k] for k in cls._POSTINGS}
            ordered = {k: tuple(doc[k]) for k in cls._SORTED}
        except (KeyError, TypeError, ValueError) as exc:
            raise SearchError(f"not a placegeo search index (incomplete: {exc})") from None
        for r in records:
            r.aliases = tuple(r.aliases)
        idx = cls(records=records, meta=doc["meta"])
        for k, v in {**postings, **ordered}.items():
            setattr(idx, k, v)
        for k, v in arrays.items():
            setattr(idx, k, v)
        idx.layer_of = np.array([r.layer for r in records], dtype=object)
        idx.category_of = np.array([r.category for r in records], dtype=object)
        idx.district_of = np.array([r.district_code for r in records], dtype=object)
        return idx

    def save(self, path: str | Path) -> Path:
        return write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> SearchIndex:
        try:
            return cls.from_bytes(Path(path).read_bytes())
        except SearchError as exc:
            raise SearchError(f"'{path}' is {exc}; delete it to rebuild") from None

    @classmethod
    def for_atlas(cls, atlas) -> SearchIndex:
        """The atlas's index: the saved one when it is current, else built and saved with the atlas.

        A GeoPackage atlas keeps it in a file beside it (``<atlas>.search``), a PostGIS atlas in its
        ``placegeo_artifacts`` table. Where it cannot be saved (a read-only folder or database
        role) it is kept in memory.
        """
        data = atlas.load_artifact("search")
        if data is not None:
            try:
                idx = cls.from_bytes(data)
                if idx.meta.get("stamp") == atlas.revision:
                    return idx
            except SearchError:
                pass
        idx = cls.from_atlas(atlas)
        with contextlib.suppress(OSError, PlacegeoError):
            atlas.save_artifact("search", idx.to_bytes())
        return idx

    # -- querying ---------------------------------------------------------------------------------
    def _prefix(self, arrays: tuple[list[str], list[int]], key: str, cap: int) -> list[int]:
        keys, ids = arrays
        lo = bisect.bisect_left(keys, key)
        hi = bisect.bisect_left(keys, key + "\uffff", lo)
        found = ids[lo:hi]
        if len(found) > cap:
            found = sorted(set(found), key=lambda i: -self.rank[i])[:cap]
        return found

    def _candidates(self, q: str, cap: int) -> dict[int, tuple[str, int]]:
        """Record id -> (how it matched, tier score), best tier kept."""
        found: dict[int, tuple[str, int]] = {}

        def add(ids, how):
            score = TIERS[how]
            for i in ids:
                if i not in found or found[i][1] < score:
                    found[i] = (how, score)

        han = has_han(q)
        latin = re.sub(r"[^a-z]", "", q) if not han else ""
        add(self.exact.get(q, ()), "exact")
        add(self._prefix(self.sorted_former, q, cap), "former")
        add(self._prefix(self.sorted_names, q, cap), "prefix")
        if han:
            full, initial = _latin(q) if re.fullmatch(r"[\u3400-\u9fff]+", q) else _mixed(q)
            add(self.pinyin.get(full, ()), "homophone")
            if len(q) >= 2:  # a homophone typed halfway: 芙容 -> 芙蓉街
                add(self._prefix(self.sorted_pinyin, full, cap), "pinyin_prefix")
            if len(q) >= 2:
                grams = [q[i:i + 2] for i in range(len(q) - 1)]
                lists = sorted((self.bigrams.get(g, []) for g in grams), key=len)
                if lists and lists[0]:
                    common = set(lists[0]).intersection(*lists[1:]) if len(lists) > 1 else set(lists[0])
                    add(sorted(common, key=lambda i: -self.rank[i])[:cap], "substring")
            else:
                add(self.chars.get(q, [])[:cap], "substring")
            if not re.fullmatch(r"[\u3400-\u9fff]+", q):  # mixed: 芙rj, 芙rongjie
                add(self._prefix(self.sorted_initials, initial, cap), "initials")
                add(self._prefix(self.sorted_pinyin, full, cap), "pinyin_prefix")
        elif latin:
            add(self.pinyin.get(latin, ()), "homophone")
            add(self.initials.get(latin, ()), "initials")
            add(self._prefix(self.sorted_pinyin, latin, cap), "pinyin_prefix")
            add(self._prefix(self.sorted_initials, latin, cap), "initials")
        sure = any(how in ("exact", "former") for how, _ in found.values())
        if len(found) < 10 and not sure:  # slips: only when nothing matched as written
            keys = [q, *_deletions(q)] if 2 <= len(q) <= 24 else []
            if latin and 3 <= len(latin) <= 40:
                keys += ["#" + k for k in (latin, *_deletions(latin))]
            if keys:
                hashes = _h(keys)
                lo = np.searchsorted(self.slip_hash, hashes, side="left")
                hi = np.searchsorted(self.slip_hash, hashes, side="right")
                ids = np.unique(np.concatenate([self.slip_ids[a:b] for a, b in zip(lo, hi, strict=True)]))
                add(ids.tolist(), "slip")
        return found

    def query(
        self,
        text: str,
        *,
        limit: int = 10,
        layer: str | list[str] | None = None,
        category: str | None = None,
        district: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        near: tuple[float, float] | None = None,
        radius_km: float | None = None,
    ) -> list[Hit]:
        """The best matches for ``text`` as :class:`Hit` objects (see :meth:`search` for a GeoDataFrame)."""
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise SearchError(f"limit = {limit!r}; ask for 1 to 1000 results")
        q = normalize(text)
        if not q:
            raise SearchError("the query is empty; type part of a name, its pinyin or its initials")
        if len(q) > 64:
            raise SearchError("the query is longer than 64 characters; shorten it")
        if (near is None) != (radius_km is None):
            raise SearchError("give both near=(lon, lat) and radius_km, or neither")
        cap = max(200, limit * 20)
        found = self._candidates(q, cap)
        layers = {layer} if isinstance(layer, str) else set(layer) if layer else None
        if not found:
            return []
        ids = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
        tier = np.fromiter((v[1] for v in found.values()), dtype="float64", count=len(found))
        keep = np.ones(len(ids), dtype=bool)
        if layers:
            keep &= np.isin(self.layer_of[ids], list(layers))
        if category:
            keep &= self.category_of[ids] == category
        if district:
            keep &= self.district_of[ids] == district
        lon, lat = self.lonlat[ids, 0], self.lonlat[ids, 1]
        if bbox:
            keep &= (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
        if near is not None and radius_km is not None:
            keep &= _km_vec(near[0], near[1], lon, lat) <= radius_km
        ids, tier = ids[keep], tier[keep]
        # within a tier: the name sharing most characters with the query in place (a typo keeps all but
        # one) and of the same length, then the more important and shorter name
        qc = np.array([q[:16].ljust(16, "\0")], dtype="<U16").view(np.uint32)[: min(len(q), 16)]
        same = (self.codes[ids, : len(qc)] == qc).sum(axis=1) / max(len(qc), 1)
        score = tier + same + 0.5 * (self.lengths[ids] == len(q)) + self.rank[ids] / 1e4
        order = np.argsort(-score, kind="stable")[:limit]
        hows = [found[int(i)][0] for i in ids[order]]
        return [Hit(self.records[int(i)], how, float(sc)) for i, how, sc in zip(ids[order], hows, score[order],
                                                                                 strict=True)]

    def search(self, text: str, **kwargs) -> gpd.GeoDataFrame:
        """Like :meth:`query`, as a GeoDataFrame (EPSG:4490) with id, name, pinyin, romanised name,
        layer, category, district and town codes, how it matched, and a point."""
        hits = self.query(text, **kwargs)
        rows = [{"id": h.record.id, "name": h.record.name, "pinyin": to_pinyin(h.record.name),
                 "romanized": romanize(h.record.name), "layer": h.record.layer, "category": h.record.category,
                 "district_code": h.record.district_code, "town_code": h.record.town_code, "match": h.match,
                 "score": round(h.score, 4), "sample": h.record.sample} for h in hits]
        geometry = [shapely.Point(h.record.lon, h.record.lat) for h in hits]
        return gpd.GeoDataFrame(rows, geometry=geometry, crs=4490,
                                columns=["id", "name", "pinyin", "romanized", "layer", "category", "district_code",
                                         "town_code", "match", "score", "sample"])

    def nearest(self, lon: float, lat: float, *, k: int = 5, layer: str | None = None) -> pd.DataFrame:
        """The ``k`` named places nearest a point, with their distance in metres."""
        lons = np.array([r.lon for r in self.records])
        lats = np.array([r.lat for r in self.records])
        ok = np.isfinite(lons)
        if layer:
            ok &= np.array([r.layer == layer for r in self.records])
        d = _km_vec(lon, lat, lons, lats)
        d[~ok] = np.inf
        order = np.argsort(d)[:k]
        return pd.DataFrame([{"id": self.records[i].id, "name": self.records[i].name,
                              "layer": self.records[i].layer, "dist_m": round(float(d[i]) * 1000, 1)}
                             for i in order if np.isfinite(d[i])])


@dataclass
class Hit:
    record: NameRecord
    match: str
    score: float


def _short_name(name: str) -> str:
    for s in _ADMIN_SUFFIXES:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


def _mixed(q: str) -> tuple[str, str]:
    """Pinyin and initials of a mixed query: 芙rj -> ('furj', 'frj')."""
    full, initials = "", ""
    for part in re.findall(r"[\u3400-\u9fff]+|[a-z]+", q):
        if has_han(part):
            f, i = _latin(part)
            full, initials = full + f, initials + i
        else:
            full, initials = full + part, initials + part
    return full, initials


def _km_vec(lon, lat, lons, lats) -> np.ndarray:
    lat1, lat2 = np.radians(lat), np.radians(lats)
    dlat, dlon = lat2 - lat1, np.radians(lons - lon)
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def reverse_lookup(atlas, lon: float, lat: float, *, datum: str = "cgcs2000", k: int = 5,
                   index: SearchIndex | None = None) -> dict[str, Any]:
    """What is here? The admin units containing a point and the ``k`` nearest named places.

    ``datum`` is that of ``lon``/``lat`` (a point picked on an Amap map is ``gcj02``). Villages and
    communities have codes but no polygons in the atlas, so the village level is given only when an
    ``admin_units`` village polygon contains the point.
    """
    from placegeo.crs import convert

    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SearchError(f"({lon}, {lat}) is not a longitude/latitude pair")
    cx, cy = convert(lon, lat, src=datum, dst="cgcs2000")
    x, y = float(cx), float(cy)
    admin = atlas.read("admin_units", bbox=(x - 1e-6, y - 1e-6, x + 1e-6, y + 1e-6))
    here = admin[admin.contains(shapely.Point(x, y))]
    levels: dict[str, Any] = {"district": None, "town": None, "village": None}
    # at each level the smallest unit holding the point: a development zone lying across districts wins
    here = here.assign(_area=shapely.area(np.asarray(here.geometry.values)))
    here = here.sort_values(["_area", "code"], ascending=[False, True])
    for row in here.itertuples():
        if row.level in levels:
            levels[row.level] = {"code": row.code, "name": row.name, "sample": bool(row.sample)}
    idx = index or SearchIndex.for_atlas(atlas)
    near = idx.nearest(x, y, k=k + 20)
    near = near[~near["layer"].isin(["admin_codes", "admin_units"])].head(k)
    return {"lon": x, "lat": y, "datum": "cgcs2000", **levels, "nearest": near.to_dict(orient="records")}


from placegeo.namecheck import check_name  # noqa: E402  (moved; kept importable from here)
