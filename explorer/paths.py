"""Two ways across the code space between two codes: the straight line, and the path that follows the data.

The data path is the shortest path through the k-nearest-neighbour graph of the codes (edge length = code
distance), so every step goes from a code to one of its k nearest codes and the path stays where images are;
the straight line may cut through empty space, where the decoder was never trained. On a large set the graph
is built on a seeded sample of GRAPH_MAX codes (the endpoints always in it): kNN search and Dijkstra then cost
the same at any size. Filmstrips of either path export as a PNG strip or an animated GIF, written in memory.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from sklearn.neighbors import NearestNeighbors

from explorer.errors import ExplorerError
from explorer.inverse import interpolate

GRAPH_MAX = 20_000  # codes in the kNN graph; a seeded sample beyond this
GRAPH_K = 10  # neighbours per code
GRAPH_K_MAX = 40  # ends the graph leaves unconnected are retried with twice the neighbours, up to this many


def straight_path(z0, z1, steps: int) -> np.ndarray:
    """steps codes (steps, d) evenly along the straight line from z0 to z1, both included."""
    return interpolate(z0, z1, steps, "linear")


def knn_graph(codes: np.ndarray, k: int = GRAPH_K) -> csr_matrix:
    """Symmetric sparse graph (n, n): an edge between each code and each of its k nearest codes, weighted
    by their distance (an edge kept if either end has the other among its k nearest)."""
    n = len(codes)
    k = min(k, n - 1)
    if k < 1:
        raise ExplorerError("a path needs at least two codes")
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(codes).kneighbors(codes)  # column 0: the code itself
    rows = np.repeat(np.arange(n), k)
    graph = csr_matrix((np.maximum(dist[:, 1:].ravel(), 1e-12), (rows, idx[:, 1:].ravel())), shape=(n, n))
    return graph.maximum(graph.T)  # 1e-12: a zero-length edge (duplicate codes) must not vanish from the graph


@dataclass
class DataPath:
    """The shortest kNN-graph path: its codes from start to end, and which data rows they are."""

    codes: np.ndarray  # (m, d), codes[0] = start, codes[-1] = end
    rows: np.ndarray  # (m,) dataset rows of the codes; -1 for an endpoint that is not a data code
    length: float  # summed code distance along the path
    straight: float  # the straight line's length, for comparison
    graph_size: int  # codes in the graph (the endpoints included)
    n_data: int  # codes it was sampled from
    k: int  # neighbours per code in the graph that joined the ends
    sampled: bool  # the graph holds a sample of the codes (GRAPH_MAX), not all of them


def data_path(codes: np.ndarray, start, end, k: int = GRAPH_K, seed: int = 0,
              start_row: int = -1, end_row: int = -1) -> DataPath:
    """Shortest path from code `start` to code `end` (each (d,)) through the kNN graph of `codes` (N, d).

    start_row / end_row: the data rows of the endpoints when they are data codes (kept out of the sample, so
    they are not in the graph twice). Clusters can leave the ends unconnected: k is then doubled, up to
    GRAPH_K_MAX, before an ExplorerError says so."""
    n = len(codes)
    rng = np.random.default_rng(seed)
    others = np.setdiff1d(np.arange(n), [r for r in (start_row, end_row) if r >= 0])
    sampled = len(others) > GRAPH_MAX - 2
    if sampled:
        others = np.sort(rng.choice(others, GRAPH_MAX - 2, replace=False))
    nodes = np.vstack([np.asarray(start, np.float32)[None], np.asarray(end, np.float32)[None],
                       np.asarray(codes[others], dtype=np.float32)])  # node 0 = start, node 1 = end
    rows = np.concatenate([[start_row, end_row], others])
    while True:
        dist, pred = dijkstra(knn_graph(nodes.astype(np.float64), k), indices=0, return_predecessors=True)
        if np.isfinite(dist[1]) or 2 * k > max(GRAPH_K_MAX, k):
            break
        k *= 2
    if not np.isfinite(dist[1]):
        raise ExplorerError(f"the two ends are not connected in the {k}-nearest-neighbour graph of the codes; "
                            "pick ends in the same region of the map")
    order = [1]
    while order[-1] != 0:
        order.append(int(pred[order[-1]]))
    order = order[::-1]
    return DataPath(nodes[order], rows[order], float(dist[1]), float(np.linalg.norm(nodes[1] - nodes[0])),
                    len(nodes), n, k, sampled)


def straight_through(waypoints, steps: int) -> np.ndarray:
    """steps codes evenly spaced by length along the straight segments joining waypoints (m, d) in order."""
    waypoints = np.asarray(waypoints, dtype=np.float64)
    if len(waypoints) == 2:
        return straight_path(waypoints[0], waypoints[1], steps)
    at = progress(waypoints)  # each waypoint's fraction of the polyline's length
    t = np.linspace(0.0, 1.0, steps)
    return np.column_stack([np.interp(t, at, waypoints[:, j]) for j in range(waypoints.shape[1])]).astype(np.float32)


def data_path_through(codes: np.ndarray, waypoints, rows=None, k: int = GRAPH_K, seed: int = 0) -> DataPath:
    """The data path from waypoint to waypoint (m, d), in order: data_path's segments joined.

    rows: each waypoint's data row, or -1 for a spot off the data (default: all -1)."""
    waypoints = np.asarray(waypoints, dtype=np.float32)
    rows = [-1] * len(waypoints) if rows is None else list(rows)
    if len(waypoints) < 2:
        raise ExplorerError("a path needs two ends")
    legs = [data_path(codes, waypoints[i], waypoints[i + 1], k, seed, rows[i], rows[i + 1])
            for i in range(len(waypoints) - 1)]
    return DataPath(np.vstack([legs[0].codes[:1]] + [leg.codes[1:] for leg in legs]),  # a joint once, not twice
                    np.concatenate([legs[0].rows[:1]] + [leg.rows[1:] for leg in legs]),
                    sum(leg.length for leg in legs), sum(leg.straight for leg in legs),
                    max(leg.graph_size for leg in legs), legs[0].n_data, max(leg.k for leg in legs),
                    any(leg.sampled for leg in legs))


def evenly(items: np.ndarray, m: int) -> np.ndarray:
    """At most m items, evenly spaced, the first and last kept."""
    if len(items) <= m:
        return items
    return items[np.linspace(0, len(items) - 1, m).round().astype(int)]


def progress(codes: np.ndarray) -> np.ndarray:
    """How far along a path (m, d) each code is, as the fraction of its length walked: 0 at the start, 1 at the end."""
    walked = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(np.asarray(codes, np.float64), axis=0), axis=1))])
    return walked / walked[-1] if walked[-1] > 0 else np.linspace(0, 1, len(walked))


def _frames_uint8(frames: list[np.ndarray], scale: int) -> list[np.ndarray]:
    """H x W (x 3) arrays in [0, 1] -> uint8, enlarged by whole pixels (a 28 x 28 digit is too small to see)."""
    out = []
    for f in frames:
        f = np.repeat(np.repeat(np.clip(np.asarray(f, dtype=np.float64), 0, 1), scale, 0), scale, 1)
        out.append((f * 255).round().astype(np.uint8))
    return out


def filmstrip_png(frames: list[np.ndarray], scale: int = 3, gap: int = 2) -> bytes:
    """The frames side by side, gap white pixels apart, as PNG bytes."""
    tiles = _frames_uint8(frames, scale)
    h, w = tiles[0].shape[:2]
    strip = np.full((h, len(tiles) * (w + gap) - gap) + tiles[0].shape[2:], 255, np.uint8)
    for i, t in enumerate(tiles):
        strip[:, i * (w + gap): i * (w + gap) + w] = t
    buf = io.BytesIO()
    Image.fromarray(strip).save(buf, format="PNG")
    return buf.getvalue()


def filmstrip_gif(frames: list[np.ndarray], scale: int = 4, ms: int = 150) -> bytes:
    """The frames as an animated GIF (looping), ms milliseconds each."""
    images = [Image.fromarray(t) for t in _frames_uint8(frames, scale)]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=ms, loop=0)
    return buf.getvalue()
