"""The OpenAPI 3.0 description of the web map (served at ``/api/openapi.json``): every route, its
parameters, and the schema of each answer.

The OGC schemas follow those the standards publish (OGC API - Features Part 1 ``landingPage``,
``confClasses``, ``collections``, ``collectionInfo``, ``featureCollectionGeoJSON``,
``featureGeoJSON``, ``link``; Part 2's ``crs`` and ``storageCrs``; OGC API - Tiles' ``tileSet`` and
the Tile Matrix Set 2.0 ``tileMatrixSet``), reduced to what this site answers. The schemas use no
OpenAPI-only keyword, so a JSON Schema validator checks answers against them as they are.
"""

from __future__ import annotations

from typing import Any

from placegeo.search import QUERY_KEY_MAX, QUERY_TEXT_MAX

__all__ = ["spec"]

_ARRAY_OF_NUMBERS = {"type": "array", "items": {"type": "number"}}


def _param(name: str, description: str, schema: dict[str, Any], *, required: bool = False,
           where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path", "description": description,
            "schema": schema}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


#: what every analysis answer says of its inputs (see placegeo.provenance)
_RESTS_ON = {"sample": {"type": "boolean"}, "sample_inputs": {"type": "array", "items": {"type": "string"}},
             "notice": {"oneOf": [{"type": "string"}, {"enum": [None]}]}}


def _obj(required: list[str], properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", **({"required": required} if required else {}), "properties": properties, **more}


def _array(items: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **more}


def _answer(description: str, schema: dict[str, Any], media: str = "application/json",
            html: bool = False) -> dict[str, Any]:
    content = {media: {"schema": schema}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


ERROR = _answer("Bad request or nothing there: the message names the parameter or resource", _ref("Error"))
F = _param("f", "Format of the answer (default: from the Accept header, else JSON)",
           {"type": "string", "enum": ["json", "html"]})
DATUM = _param("datum", "Datum of the coordinates returned (or given): gcj02 lines up with Amap tiles",
               {"type": "string", "enum": ["cgcs2000", "wgs84", "gcj02", "bd09"], "default": "cgcs2000"})


def _schemas() -> dict[str, Any]:
    geometry = _obj(["type"], {
        "type": {"type": "string", "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                                            "MultiPolygon", "GeometryCollection"]},
        "coordinates": {"type": "array"}, "geometries": {"type": "array"}})
    link = _obj(["href"], {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
                           "hreflang": {"type": "string"}, "title": {"type": "string"},
                           "length": {"type": "integer"}, "templated": {"type": "boolean"}})
    links = _array(_ref("link"))
    feature = _obj(["type", "geometry", "properties"], {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": {"oneOf": [geometry, {"enum": [None]}]},
        "properties": {"oneOf": [{"type": "object"}, {"enum": [None]}]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}, {"enum": [None]}]}, "links": links})
    collection = _obj(["id", "links"], {
        "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"}, "links": links,
        "extent": _obj([], {"spatial": _obj([], {"bbox": _array(_array({"type": "number"}, minItems=4, maxItems=6),
                                                                minItems=1),
                                                 "crs": {"type": "string"}})}),
        "itemType": {"type": "string"}, "crs": _array({"type": "string"}, minItems=1),
        "storageCrs": {"type": "string"}})
    tileset = _obj(["dataType", "links", "crs"], {
        "title": {"type": "string"}, "dataType": {"type": "string", "enum": ["map", "vector", "coverage"]},
        "crs": {"type": "string"}, "tileMatrixSetURI": {"type": "string"}, "links": links,
        "layers": _array(_obj(["id"], {"id": {"type": "string"}, "dataType": {"type": "string"},
                                       "geometryType": {"type": "string"}, "propertiesSchema": {"type": "object"}}))})
    tile_matrix = _obj(["id", "scaleDenominator", "cellSize", "pointOfOrigin", "tileWidth", "tileHeight",
                        "matrixWidth", "matrixHeight"], {
        "id": {"type": "string"}, "scaleDenominator": {"type": "number"}, "cellSize": {"type": "number"},
        "cornerOfOrigin": {"type": "string", "enum": ["topLeft", "bottomLeft"]},
        "pointOfOrigin": _array({"type": "number"}, minItems=2, maxItems=2),
        "tileWidth": {"type": "integer", "minimum": 1}, "tileHeight": {"type": "integer", "minimum": 1},
        "matrixWidth": {"type": "integer", "minimum": 1}, "matrixHeight": {"type": "integer", "minimum": 1}})
    search_feature = {"allOf": [feature, _obj(["properties"], {"properties": _obj(
        ["id", "name", "layer", "match"], {"id": {"type": "string"}, "name": {"type": "string"},
                                           "layer": {"type": "string"}, "match": {"type": "string"}})})]}
    unit = {"oneOf": [_obj(["code", "name"], {"code": {"type": "string"}, "name": {"type": "string"},
                                               "sample": {"type": "boolean"}}), {"enum": [None]}]}
    return {
        "Error": _obj(["error"], {"error": _obj(["status", "message"], {
            "status": {"type": "integer"}, "message": {"type": "string"}, "parameter": {"type": "string"}})}),
        "link": link,
        "landingPage": _obj(["links"], {"title": {"type": "string"}, "description": {"type": "string"},
                                        "links": links}),
        "confClasses": _obj(["conformsTo"], {"conformsTo": _array({"type": "string"}, minItems=1),
                                             "links": links}),
        "collectionInfo": collection,
        "collections": _obj(["links", "collections"], {"links": links, "collections": _array(_ref("collectionInfo")),
                                                       "crs": _array({"type": "string"})}),
        "geometryGeoJSON": geometry,
        "featureGeoJSON": feature,
        "featureCollectionGeoJSON": _obj(["type", "features"], {
            "type": {"type": "string", "enum": ["FeatureCollection"]}, "features": _array(_ref("featureGeoJSON")),
            "links": links, "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0}, "numberReturned": {"type": "integer", "minimum": 0}}),
        "tileSet": tileset,
        "tileSetList": _obj(["tilesets"], {"tilesets": _array(tileset), "links": links}),
        "tileMatrixSet": _obj(["id", "crs", "tileMatrices"], {
            "id": {"type": "string"}, "title": {"type": "string"}, "uri": {"type": "string"},
            "crs": {"type": "string"}, "orderedAxes": _array({"type": "string"}), "links": links,
            "wellKnownScaleSet": {"type": "string"}, "tileMatrices": _array(tile_matrix, minItems=1)}),
        "tileMatrixSets": _obj(["tileMatrixSets"], {"links": links, "tileMatrixSets": _array(_obj(
            ["id", "links"], {"id": {"type": "string"}, "title": {"type": "string"}, "uri": {"type": "string"},
                              "links": links}))}),
        "SearchResults": _obj(["type", "features", "query", "datum"], {
            "type": {"type": "string", "enum": ["FeatureCollection"]}, "query": {"type": "string"},
            "datum": {"type": "string"}, "features": _array(search_feature)}),
        "Place": {"allOf": [feature, _obj(["properties"], {"properties": _obj(
            ["id", "layer", "layer_title", "lon", "lat"], {"id": {"type": "string"}, "layer": {"type": "string"},
                                                           "layer_title": {"type": "string"},
                                                           "lon": {"type": "number"}, "lat": {"type": "number"},
                                                           "lon_gcj02": {"type": "number"},
                                                           "lat_gcj02": {"type": "number"}})})]},
        "Reverse": _obj(["lon", "lat", "datum", "district", "town", "village", "nearest"], {
            "lon": {"type": "number"}, "lat": {"type": "number"}, "datum": {"type": "string"},
            "district": unit, "town": unit, "village": unit, "nearest": _array({"type": "object"})}),
        "Layers": _obj(["layers"], {"layers": _array(_obj(
            ["name", "title_zh", "title_en", "geometry", "features", "sample_share", "drawn", "links"], {
                "name": {"type": "string"}, "title_zh": {"type": "string"}, "title_en": {"type": "string"},
                "geometry": {"type": "string"}, "features": {"type": "integer", "minimum": 0},
                "sample_share": {"type": "number", "minimum": 0, "maximum": 1}, "sources": {},
                "attribution": {}, "drawn": {"type": "boolean"},
                "links": _obj(["items"], {"items": {"type": "string"}, "download": {"type": "string"},
                                          "tiles": {"type": "string"}})}))}),
        "Coverage": _obj(["method", "target_min", "areas", "atlas_revision"], {
            "method": {"type": "string"}, "facility_layer": {"type": "string"}, "target_min": {"type": "number"},
            "thresholds_min": _ARRAY_OF_NUMBERS, "rule": {}, "speed_kmh": {"type": "number"},
            "atlas_revision": {"type": "string"}, "computed_at": {}, "parameters": {"type": "object"},
            **_RESTS_ON, "areas": _array({"type": "object"})}),
        "Cemetery": _obj(["horizon_years", "areas", "method", "sample"], {
            "horizon_years": {"type": "integer", "minimum": 1}, "start_year": {}, "method": {"type": "string"},
            "parameters": {"type": "object"}, "param_sources": {"type": "object"},
            "atlas_revision": {"type": "string"}, **_RESTS_ON, "areas": _array({"type": "object"})}),
        "Indicators": {"type": "object"},
        "OpenNow": _obj(["open", "closed", "unknown", "weekday", "hour"], {
            "open": _array({"type": "string"}), "closed": _array({"type": "string"}),
            "unknown": _array({"type": "string"}), "weekday": {"type": "integer", "minimum": 1, "maximum": 7},
            "hour": {"type": "number", "minimum": 0, "maximum": 24}}),
        "NameCheck": {"type": "object"},
        "Health": _obj(["ok"], {"ok": {"type": "boolean"}}),
        "Config": _obj(["tiles", "name", "extent", "city"], {
            "tiles": {"oneOf": [_obj(["url", "datum", "attribution"], {
                "url": {"type": "string"}, "datum": {"type": "string"}, "attribution": {"type": "string"}}),
                {"enum": [None]}]},
            "name": {"type": "string"}, "extent": _array({"type": "number"}, minItems=4, maxItems=4),
            "city": {"oneOf": [{"type": "object"}, {"enum": [None]}]},
            "base": {"type": "string"}, "default_city": {"type": "string"},
            "cities": _array(_obj(["id"], {"id": {"type": "string"}, "name": {"type": "string"}})),
            "vector_tiles_above": {"type": "integer", "minimum": 0}}),
        "OpenAPI": _obj(["openapi", "info", "paths"], {"openapi": {"type": "string", "pattern": "^3\\.0\\."},
                                                       "info": {"type": "object"}, "paths": {"type": "object"}}),
    }


def _ogc_paths(collection: dict[str, Any]) -> dict[str, Any]:
    crs = {"type": "string", "format": "uri"}
    content_crs = {"Content-Crs": {"description": "URI of the coordinates' CRS in angle brackets",
                                   "schema": {"type": "string"}}}
    items = {**_answer("Features", _ref("featureCollectionGeoJSON"), "application/geo+json", html=True),
             "headers": content_crs}
    feature = {**_answer("One feature", _ref("featureGeoJSON"), "application/geo+json", html=True),
               "headers": content_crs}
    tms = _param("tileMatrixSetId", "Tiling scheme", {"type": "string", "enum": ["WebMercatorQuad"]},
                 where="path")
    tile_params = [collection, tms,
                   _param("tileMatrix", "Zoom level", {"type": "integer", "minimum": 0, "maximum": 22}, where="path"),
                   _param("tileRow", "Row from the top", {"type": "integer", "minimum": 0}, where="path"),
                   _param("tileCol", "Column from the left", {"type": "integer", "minimum": 0}, where="path")]
    return {
        "/ogc": {"get": {"summary": "OGC API landing page", "parameters": [F],
                         "responses": {"200": _answer("Landing page", _ref("landingPage"), html=True),
                                       "400": ERROR}}},
        "/conformance": {"get": {"summary": "Conformance classes", "parameters": [F],
                                 "responses": {"200": _answer("Classes", _ref("confClasses"), html=True),
                                               "400": ERROR}}},
        "/collections": {"get": {"summary": "Feature collections", "parameters": [F],
                                 "responses": {"200": _answer("Collections", _ref("collections"), html=True),
                                               "400": ERROR}}},
        "/collections/{collectionId}": {"get": {
            "summary": "One collection", "parameters": [collection, F],
            "responses": {"200": _answer("Collection", _ref("collectionInfo"), html=True), "400": ERROR,
                          "404": ERROR}}},
        "/collections/{collectionId}/items": {"get": {
            "summary": "Features of a collection",
            "parameters": [
                collection, F,
                {**_param("bbox", "minx,miny,maxx,maxy or six numbers with heights (ignored), in the axis order "
                                  "of bbox-crs; minx > maxx crosses the antimeridian",
                          {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
                 "style": "form", "explode": False},
                _param("bbox-crs", "CRS of bbox (default CRS84)", crs),
                _param("crs", "CRS of the answer (default CRS84); EPSG:4326 and EPSG:4490 are latitude first",
                       crs),
                _param("datetime", "Not supported: the features carry no time (400)", {"type": "string"}),
                _param("limit", "Features per page (1-5000)", {"type": "integer", "minimum": 1, "maximum": 5000,
                                                               "default": 100}),
                _param("offset", "Features to skip", {"type": "integer", "minimum": 0, "default": 0}), DATUM],
            "responses": {"200": items, "400": ERROR, "404": ERROR}}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "One feature",
            "parameters": [collection, _param("featureId", "Primary key", {"type": "string"}, where="path"), F,
                           _param("crs", "CRS of the answer (default CRS84)", crs), DATUM],
            "responses": {"200": feature, "400": ERROR, "404": ERROR}}},
        "/collections/{collectionId}/tiles": {"get": {
            "summary": "Vector tilesets of a collection", "parameters": [collection, F],
            "responses": {"200": _answer("Tilesets", _ref("tileSetList"), html=True), "404": ERROR}}},
        "/collections/{collectionId}/tiles/{tileMatrixSetId}": {"get": {
            "summary": "A vector tileset", "parameters": [collection, tms, F],
            "responses": {"200": _answer("Tileset", _ref("tileSet"), html=True), "404": ERROR}}},
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": {"get": {
            "summary": "A Mapbox vector tile of a collection", "parameters": tile_params,
            "responses": {"200": {"description": "The tile", "content": {"application/vnd.mapbox-vector-tile": {
                "schema": {"type": "string", "format": "binary"}}}},
                "204": {"description": "No feature in this tile"}, "404": ERROR}}},
        "/tileMatrixSets": {"get": {"summary": "Tiling schemes", "parameters": [F],
                                    "responses": {"200": _answer("Tiling schemes", _ref("tileMatrixSets"),
                                                                 html=True)}}},
        "/tileMatrixSets/{tileMatrixSetId}": {"get": {
            "summary": "A tiling scheme", "parameters": [tms, F],
            "responses": {"200": _answer("Tile matrix set", _ref("tileMatrixSet"), html=True), "404": ERROR}}},
    }


def _api_paths(layers: list[str]) -> dict[str, Any]:
    def get(summary: str, schema: str, parameters: list[dict[str, Any]] | None = None,
            media: str = "application/json", errors: tuple[str, ...] = ("400",)) -> dict[str, Any]:
        return {"get": {"summary": summary, "parameters": parameters or [],
                        "responses": {"200": _answer(summary, _ref(schema), media),
                                      **dict.fromkeys(errors, ERROR)}}}

    return {
        "/": {"get": {"summary": "The map page", "responses": {"200": {
            "description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/api/health": get("Whether the server answers", "Health", errors=()),
        "/api/config": get("What the page needs: base tiles, extent, city titles", "Config", errors=()),
        "/api/openapi.json": get("This document", "OpenAPI", errors=()),
        "/api/search": get("Search place names by characters, pinyin, initials or typos", "SearchResults", [
            _param("q", f"Query: a name, its pinyin or initials ({QUERY_KEY_MAX} characters at most), or an "
                   "address around it", {"type": "string", "maxLength": QUERY_TEXT_MAX}, required=True),
            _param("limit", "Results (1-50)", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}),
            _param("layer", "Only this layer", {"type": "string", "enum": layers}),
            _param("category", "Only this category", {"type": "string"}),
            _param("district", "Only this district code", {"type": "string", "pattern": "^[0-9]{6}$"}),
            _param("city", "all, or one city id of those served (several cities: all by default)",
                   {"type": "string"}), DATUM],
            "application/geo+json"),
        "/api/places/{placeId}": get("Details of one place (layer:key)", "Place", [
            _param("placeId", "layer:key", {"type": "string"}, where="path")], errors=("404",)),
        "/api/reverse": get("Admin units containing a point and the nearest named places", "Reverse", [
            _param("lon", "Longitude", {"type": "number"}, required=True),
            _param("lat", "Latitude", {"type": "number"}, required=True), DATUM]),
        "/api/layers": get("Layers with counts, sample share, sources and attribution", "Layers", errors=()),
        "/api/coverage": get("15-minute coverage of residents aged 60+ per district or town", "Coverage", [
            _param("by", "district or town", {"type": "string", "enum": ["district", "town"]})],
            errors=("400", "404")),
        "/api/cemetery": get("Do public-welfare cemeteries meet N years of demand?", "Cemetery", [
            _param("horizon", "Years (1-50)", {"type": "integer", "minimum": 1, "maximum": 50}),
            _param("eco_share_target", "Eco-burial share (0-1)", {"type": "number", "minimum": 0, "maximum": 1})]),
        "/api/open": get("Which points of a layer are open at a weekday and hour", "OpenNow", [
            _param("layer", "Layer with opening hours", {"type": "string", "enum": layers}),
            _param("weekday", "1 (Monday) to 7 (Sunday)", {"type": "integer", "minimum": 1, "maximum": 7},
                   required=True),
            _param("hour", "Hour of day (0-24, fractions for minutes)", {"type": "number", "minimum": 0,
                                                                         "maximum": 24}, required=True)]),
        "/api/indicators": get("Planning indicators with definitions, targets and sources", "Indicators", [
            _param("by", "city, district or town", {"type": "string", "enum": ["city", "district", "town"]})]),
        "/api/namecheck": get("A proposed name checked by the place-name regulations (where enabled)", "NameCheck", [
            _param("name", "Proposed name", {"type": "string", "maxLength": 40}, required=True),
            _param("type", "Feature type", {"type": "string"}), _param("area", "Area code", {"type": "string"})],
            errors=("400", "404")),
        "/download/{file}": {"get": {
            "summary": "A layer as a file: <layer>.gpkg, .shp.zip, .geojson, .kml or .csv",
            "parameters": [_param("file", "e.g. traditional_place_names.geojson", {"type": "string"}, where="path"),
                           _param("crs", "4490, 4326 or gcj02", {"type": "string",
                                                                 "enum": ["4490", "4326", "gcj02"]})],
            "responses": {"200": {"description": "The file", "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}}, "400": ERROR, "404": ERROR}}},
    }


def spec(layers: list[str]) -> dict[str, Any]:
    """The OpenAPI document for an atlas with ``layers``.

    >>> doc = spec(["relief_points"])
    >>> doc["openapi"], "/collections/{collectionId}/items" in doc["paths"], "/api/health" in doc["paths"]
    ('3.0.3', True, True)
    """
    collection = _param("collectionId", "Layer name", {"type": "string", "enum": layers}, where="path")
    return {
        "openapi": "3.0.3",
        "info": {"title": "placegeo web map API", "version": "1",
                 "description": "Read-only place-name search and layers of a placegeo atlas, with OGC API - "
                                "Features (Parts 1 and 2) and Tiles for GIS clients such as QGIS. Coordinates are "
                                "CGCS2000 longitude/latitude (equal to WGS84 at map accuracy) unless `crs` or "
                                "`datum` asks otherwise."},
        "paths": {**_api_paths(layers), **_ogc_paths(collection)},
        "components": {"schemas": _schemas()},
    }
