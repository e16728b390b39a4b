"""GeoJSON and JSON answers: features from frames, links, strict JSON values."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from flask import Response, jsonify, request

from placegeo.crs import shift_datum

__all__ = ["clean", "features", "geojson_response", "records", "shift", "url"]


def clean(value: Any) -> Any:
    """A value as strict JSON takes it: None for missing and non-finite numbers, plain Python numbers."""
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        return clean(value.item())
    return value


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table (its index as a column) as JSON objects."""
    return [{k: clean(v) for k, v in r.items()} for r in table.reset_index().to_dict(orient="records")]


def features(gdf: gpd.GeoDataFrame, id_col: str) -> list[dict[str, Any]]:
    """GeoJSON features of a frame, ``id`` from ``id_col``."""
    # GEOS writes the GeoJSON (same text as GeoSeries.to_json, ~20x faster for points)
    texts = shapely.to_geojson(np.asarray(gdf.geometry.values)).tolist() if len(gdf) else []
    shapes = json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]")
    names = [c for c in gdf.columns if c != gdf.geometry.name]
    columns = [[clean(v) for v in gdf[c].tolist()] for c in names]  # column by column: no row Series
    out = []
    for i, geom in enumerate(shapes):
        p = {name: col[i] for name, col in zip(names, columns, strict=True)}
        out.append({"type": "Feature", "id": p.get(id_col), "geometry": geom, "properties": p})
    return out


def shift(gdf: gpd.GeoDataFrame, datum: str) -> gpd.GeoDataFrame:
    """A frame in CGCS2000 moved to ``datum`` for the answer (GCJ-02 lines up with Amap tiles)."""
    return gdf if datum in ("cgcs2000", "wgs84") else shift_datum(gdf, src="cgcs2000", dst=datum)


def url(path: str, args: dict[str, str] | None = None) -> str:
    """An absolute link to ``path`` on this site (under the city's prefix, ``/jining`` …, if any)."""
    root = request.root_url.rstrip("/")
    path = path.rstrip("?")
    return f"{root}{path}" + (f"?{urlencode(args)}" if args else "")


def geojson_response(doc: dict[str, Any]) -> Response:
    resp = jsonify(doc)
    resp.mimetype = "application/geo+json"
    return resp
