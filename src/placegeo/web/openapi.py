"""The OpenAPI 3.0 description of the web map's API (served at ``/api/openapi.json``)."""

from __future__ import annotations

from typing import Any


def _param(name: str, description: str, schema: dict[str, Any], *, required: bool = False,
           where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


DATUM = _param("datum", "Datum of the coordinates returned (or given): gcj02 lines up with Amap tiles",
               {"type": "string", "enum": ["cgcs2000", "wgs84", "gcj02", "bd09"], "default": "cgcs2000"})
ERROR = {"description": "Bad parameter: the message names it",
         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
GEOJSON = {"description": "GeoJSON", "content": {"application/geo+json": {"schema": {"type": "object"}}}}
JSON = {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}


def spec(layers: list[str]) -> dict[str, Any]:
    collection = _param("collectionId", "Layer name", {"type": "string", "enum": layers}, required=True,
                        where="path")
    return {
        "openapi": "3.0.3",
        "info": {"title": "placegeo web map API", "version": "1",
                 "description": "Read-only place-name search and layers of a placegeo atlas, with OGC API - "
                                "Features for GIS clients such as QGIS. Coordinates are CGCS2000 longitude/"
                                "latitude (equal to WGS84 at map accuracy) unless `datum` asks otherwise."},
        "paths": {
            "/api/search": {"get": {"summary": "Search place names by characters, pinyin, initials or typos",
                                    "parameters": [
                                        _param("q", "Query (1-64 characters)", {"type": "string", "maxLength": 64},
                                               required=True),
                                        _param("limit", "Results (1-50)", {"type": "integer", "minimum": 1,
                                                                            "maximum": 50, "default": 10}),
                                        _param("layer", "Only this layer", {"type": "string", "enum": layers}),
                                        _param("category", "Only this category", {"type": "string"}),
                                        _param("district", "Only this district code", {"type": "string",
                                                                                       "pattern": "^[0-9]{6}$"}),
                                        DATUM],
                                    "responses": {"200": GEOJSON, "400": ERROR}}},
            "/api/places/{placeId}": {"get": {"summary": "Details of one place (layer:key)",
                                              "parameters": [_param("placeId", "layer:key", {"type": "string"},
                                                                    required=True, where="path")],
                                              "responses": {"200": GEOJSON, "404": ERROR}}},
            "/api/reverse": {"get": {"summary": "Admin units containing a point and the nearest named places",
                                     "parameters": [_param("lon", "Longitude", {"type": "number"}, required=True),
                                                    _param("lat", "Latitude", {"type": "number"}, required=True),
                                                    DATUM],
                                     "responses": {"200": JSON, "400": ERROR}}},
            "/api/layers": {"get": {"summary": "Layers with counts, sample share, sources and attribution",
                                    "responses": {"200": JSON}}},
            "/api/coverage": {"get": {"summary": "15-minute coverage of residents aged 60+ per district or town",
                                      "parameters": [_param("by", "district or town",
                                                            {"type": "string", "enum": ["district", "town"]})],
                                      "responses": {"200": JSON, "404": ERROR}}},
            "/api/cemetery": {"get": {"summary": "Do public-welfare cemeteries meet N years of demand?",
                                      "parameters": [_param("horizon", "Years (1-50)", {"type": "integer"}),
                                                     _param("eco_share_target", "Eco-burial share (0-1)",
                                                            {"type": "number"})],
                                      "responses": {"200": JSON, "400": ERROR}}},
            "/api/indicators": {"get": {"summary": "Planning indicators with definitions, targets and sources",
                                        "parameters": [_param("by", "city, district or town",
                                                              {"type": "string",
                                                               "enum": ["city", "district", "town"]})],
                                        "responses": {"200": JSON, "400": ERROR}}},
            "/ogc": {"get": {"summary": "OGC API - Features landing page", "responses": {"200": JSON}}},
            "/conformance": {"get": {"summary": "Conformance classes", "responses": {"200": JSON}}},
            "/collections": {"get": {"summary": "Feature collections", "responses": {"200": JSON}}},
            "/collections/{collectionId}": {"get": {"summary": "One collection", "parameters": [collection],
                                                    "responses": {"200": JSON, "404": ERROR}}},
            "/collections/{collectionId}/items": {"get": {
                "summary": "Features of a collection",
                "parameters": [collection,
                               _param("bbox", "minlon,minlat,maxlon,maxlat", {"type": "string"}),
                               _param("limit", "Features per page (1-5000)", {"type": "integer", "minimum": 1,
                                                                              "maximum": 5000, "default": 100}),
                               _param("offset", "Features to skip", {"type": "integer", "minimum": 0}), DATUM],
                "responses": {"200": GEOJSON, "400": ERROR, "404": ERROR}}},
            "/collections/{collectionId}/items/{featureId}": {"get": {
                "summary": "One feature", "parameters": [collection, _param("featureId", "Primary key",
                                                                            {"type": "string"}, required=True,
                                                                            where="path"), DATUM],
                "responses": {"200": GEOJSON, "404": ERROR}}},
            "/download/{file}": {"get": {
                "summary": "A layer as a file: <layer>.gpkg, .shp.zip, .geojson, .kml or .csv",
                "parameters": [_param("file", "e.g. traditional_place_names.geojson", {"type": "string"},
                                      required=True, where="path"),
                               _param("crs", "4490, 4326 or gcj02", {"type": "string",
                                                                     "enum": ["4490", "4326", "gcj02"]})],
                "responses": {"200": {"description": "The file"}, "400": ERROR, "404": ERROR}}},
        },
        "components": {"schemas": {"Error": {"type": "object", "properties": {"error": {
            "type": "object", "properties": {"status": {"type": "integer"}, "message": {"type": "string"},
                                             "parameter": {"type": "string"}}}}}}},
    }
