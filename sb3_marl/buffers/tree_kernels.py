"""Compiled loops for :class:`~sb3_marl.buffers.sum_tree.PriorityTree`'s climb, search and writes, used when
numba is installed (``pip install numba``); the tree's NumPy path does the same work without it.

A batched NumPy pass over a level costs a handful of calls of a few microseconds each whatever the batch,
so a climb and a search at 1M leaves cost some forty calls; these loops do the same work per leaf and per
prefix in one call each. Both read the tree's levels laid end to end in one array (``starts[k]`` is where
level ``k`` begins; the minima of level ``k >= 1`` begin at ``starts[k] - starts[1]`` of theirs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import numba
except ImportError:  # the NumPy path is used
    numba = None  # type: ignore[assignment]

AVAILABLE = numba is not None


def _jit(function: Any) -> Any:
    return numba.njit(cache=True, nogil=True)(function) if AVAILABLE else function


@_jit
def touch(
    values: np.ndarray, start: int, fanout: int, nodes: np.ndarray, sink: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Read the first and last child of each of ``nodes`` (children from ``start``) into ``sink`` (so
    that the compiler keeps the reads). The reads do not depend on each other, so the processor has many
    cache misses in flight at once; the loop that then uses these children finds them in cache (at 1M
    leaves the tree is larger than the caches, and the nodes of a batch lie far apart)."""
    for i in range(nodes.size):
        first = start + nodes[i] * fanout
        sink[0] += values[first] + values[first + fanout - 1]


@_jit
def climb(
    sums: np.ndarray, mins: np.ndarray, starts: np.ndarray, fanout: int, depth: int, leaves: np.ndarray
) -> None:  # pragma: no cover - compiled; tests run it through PriorityTree(compiled=True)
    """Recompute the sum and the minimum positive leaf of every ancestor of ``leaves``, up to level
    ``depth``, from their children (a leaf listed twice gets its ancestors recomputed twice, alike).
    Level by level for all leaves, each level read first in a pass of independent loads (see ``touch``)."""
    offset = starts[1]
    nodes = leaves // fanout
    sink = np.zeros(1)
    for level in range(1, depth + 1):
        below = starts[level - 1]
        touch(sums, below, fanout, nodes, sink)
        if level > 1:
            touch(mins, below - offset, fanout, nodes, sink)
        for i in range(nodes.size):
            node = nodes[i]
            first = below + node * fanout
            total = 0.0
            lowest = np.inf
            if level == 1:
                for j in range(fanout):
                    value = sums[first + j]
                    total += value
                    if 0.0 < value < lowest:
                        lowest = value
            else:
                first_min = first - offset
                for j in range(fanout):
                    total += sums[first + j]
                    lowest = min(lowest, mins[first_min + j])
            sums[starts[level] + node] = total
            mins[starts[level] - offset + node] = lowest
        nodes //= fanout


@_jit
def descend(
    sums: np.ndarray,
    starts: np.ndarray,
    fanout: int,
    depth: int,
    n_scanned: int,
    prefixes: np.ndarray,
    leaves: np.ndarray,
    values: np.ndarray,
) -> None:  # pragma: no cover - compiled; tests run it through PriorityTree(compiled=True)
    """For each prefix, the leaf whose interval holds it (``leaves``) and that leaf's value (``values``),
    never an empty leaf while the tree holds a positive one: the ``n_scanned`` nodes of level ``depth``
    are scanned, then each level below is searched child by child."""
    top = starts[depth]
    edges = np.empty(n_scanned)
    total = 0.0
    last = 0  # the last non-empty node scanned
    for j in range(n_scanned):
        value = sums[top + j]
        total += value
        edges[j] = total
        if value > 0.0:
            last = j
    remaining = np.empty(prefixes.size)
    sink = np.zeros(1)
    for i in range(prefixes.size):
        node = min(np.searchsorted(edges, prefixes[i], side="right"), last)
        # Never below 0 (rounding can put it there at an edge): the first non-empty child then holds it.
        remaining[i] = max(prefixes[i] - (edges[node] - sums[top + node]), 0.0)
        leaves[i] = node
    # Level by level for the whole batch (not prefix by prefix): the reads of one level are then
    # independent of each other, and the memory system serves many at once.
    for level in range(depth - 1, -1, -1):
        touch(sums, starts[level], fanout, leaves, sink)
        for i in range(prefixes.size):
            # The last non-empty child whose children before it sum to at most the remainder.
            first = starts[level] + leaves[i] * fanout
            before = 0.0
            chosen = fanout - 1
            chosen_before = 0.0
            for j in range(fanout):
                value = sums[first + j]
                if value > 0.0 and before <= remaining[i]:
                    chosen = j
                    chosen_before = before
                before += value
            remaining[i] -= chosen_before
            leaves[i] = leaves[i] * fanout + chosen
    for i in range(prefixes.size):
        values[i] = sums[leaves[i]]


@_jit
def reweight(
    leaves: np.ndarray, capacity: int, indices: np.ndarray, priorities: np.ndarray, alpha: float
) -> float:  # pragma: no cover - compiled; tests run it through PriorityTree(compiled=True)
    """Check every input, then set each non-empty leaf of ``indices`` to its priority ``** alpha``, in
    order. Return the largest priority written (0.0 when every leaf was empty), or, writing nothing,
    -1.0 for a priority that is not finite and > 0 and -2.0 for an index not in ``[0, capacity)``."""
    for i in range(indices.size):
        if not 0.0 < priorities[i] < np.inf:  # NaN fails too
            return -1.0
        if not 0 <= indices[i] < capacity:
            return -2.0
    highest = 0.0
    for i in range(indices.size):
        if leaves[indices[i]] > 0.0:
            leaves[indices[i]] = priorities[i] ** alpha
            highest = max(highest, priorities[i])
    return highest


@_jit
def write(leaves: np.ndarray, indices: np.ndarray, values: np.ndarray) -> int:  # pragma: no cover
    """Set ``leaves[indices] = values`` in order (where an index repeats, its last write stays) and
    return the largest index written."""
    highest = 0
    for i in range(indices.size):
        leaves[indices[i]] = values[i]
        highest = max(highest, indices[i])
    return highest
