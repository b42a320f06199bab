"""A tree of sums and minima over priorities, for prioritized replay, in plain NumPy."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from sb3_marl.buffers import tree_kernels

BAD_PRIORITY = "Priorities must be finite and > 0 (use |td_error| + eps)"


class PriorityTree:
    """
    Non-negative leaf values (priorities) with their sum, their minimum and a search by prefix sum, all
    batched. A leaf of value 0 is empty: it is never found by :meth:`find_prefixsum` and does not
    count for :meth:`min`.

    Level 0 holds the leaves; node ``i`` of level ``k + 1`` holds the sum and the minimum positive leaf
    of nodes ``fanout * i`` to ``fanout * i + fanout - 1`` of level ``k``. A wide tree has few levels,
    and a batched pass over a level costs the same few NumPy calls whatever the fan-out (a gather of the
    children as rows, one matrix product for their sums or prefix sums), so a pass over the tree costs a
    few dozen calls where a binary tree takes over a hundred at 1M leaves. The levels are kept from the
    leaves up to the lowest level whose written part (up to the last leaf ever written: a replay buffer
    fills from the front) has at most ``top`` nodes, and at least one; ``total()``, ``min()`` and
    ``find_prefixsum()`` reduce or scan that part. As the leaves fill, the next level up is built from
    the one below; a full tree has ``levels`` levels over its leaves and ``n_top`` nodes on top.

    An update writes its leaves at once and leaves the nodes above them stale until the next query,
    which recomputes the ancestors of every leaf written since, or rebuilds the tree after writes to as
    many leaves as level 1 has written nodes. The adds and priority updates between two samples thus
    share one climb. Leaves past ``capacity`` pad the last top node and stay empty.

    :param capacity: Number of leaves
    :param fanout: Children per node
    :param top: Most nodes in the level scanned
    """

    def __init__(self, capacity: int, fanout: int = 16, top: int = 4096, compiled: bool | None = None):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if fanout < 2 or top < 1:
            raise ValueError(f"fanout must be >= 2 and top >= 1, got {fanout} and {top}")
        self.capacity = capacity
        self.fanout = fanout
        self.compiled = compiled
        self._top = top
        self.levels = 1
        while -(-capacity // fanout**self.levels) > top:
            self.levels += 1
        self.n_top = -(-capacity // fanout**self.levels)
        sizes = [self.n_top * fanout ** (self.levels - k) for k in range(self.levels + 1)]
        # The levels end to end in one array each (what the compiled loops read), and a view per level.
        self._starts = np.cumsum([0, *sizes[:-1]])
        self._flat_sums = np.zeros(sum(sizes))  # level 0: the leaves
        self._flat_mins = np.full(sum(sizes[1:]), np.inf)  # the leaves are their own minima
        self._views()
        self._ones = np.ones(fanout)
        self._exclusive = np.tri(fanout, fanout, -1)  # row j sums columns 0 to j - 1 (cumsum is slower)
        self._stale: list[np.ndarray] = []  # leaves written since the nodes were last recomputed
        self._n_stale = 0
        self._rebuild = False  # so many leaves written since that a rebuild is cheaper than a climb
        self._used = 1  # leaves up to the last one ever written (at least one: scans need a node)
        self._depth = 1  # the level scanned

    def _views(self) -> None:
        """The per-level views of the flat arrays, and whether the compiled loops are used."""
        ends = [*self._starts[1:], self._flat_sums.size]
        self._sums = [self._flat_sums[a:b] for a, b in zip(self._starts, ends, strict=True)]
        self._mins = [np.empty(0)] + [
            self._flat_mins[a - ends[0] : b - ends[0]] for a, b in itertools.pairwise(ends)
        ]
        if self.compiled and not tree_kernels.AVAILABLE:
            raise ImportError("PriorityTree(compiled=True) needs numba: pip install numba")
        self._kernels = self.compiled is not False and tree_kernels.AVAILABLE

    def __getstate__(self) -> dict[str, Any]:
        # The per-level views are rebuilt on loading: pickled apart, they would no longer share memory.
        return {k: v for k, v in self.__dict__.items() if k not in ("_sums", "_mins", "_kernels")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "_flat_sums" not in state:  # pickled before the flat layout: levels as separate arrays
            sums, mins = state.pop("_sums"), state.pop("_mins")
            state["_starts"] = np.cumsum([0, *(len(level) for level in sums[:-1])])
            state["_flat_sums"], state["_flat_mins"] = np.concatenate(sums), np.concatenate(mins[1:])
            state["compiled"] = None
        self.__dict__.update(state)
        self._views()

    @property
    def _leaves(self) -> np.ndarray:
        return self._sums[0]

    def __getitem__(self, indices: np.ndarray) -> np.ndarray:
        """Leaf values at ``indices``."""
        return self._leaves[indices]

    def update(
        self, indices: np.ndarray, values: np.ndarray, checked: bool = False, distinct: bool = False
    ) -> None:
        """
        Set leaves ``indices`` to ``values`` (>= 0); the nodes above them follow at the next query.
        When an index repeats, the last write wins.

        :param indices: Leaf indices, in ``[0, capacity)``
        :param values: One value per index
        :param checked: The caller has made ``indices`` a flat int64 array in range and ``values`` a
            float array of the same shape, as the replay buffer does: the checks are skipped
        :param distinct: The caller knows that no index repeats (as in one step's transitions): the
            check for repeats is skipped

        The two flags exist for speed: on a replay buffer's ``add`` of a 6-slot step the checks they skip
        are about a third of the time (``benchmarks/per_buffer.py --quick``, interleaved runs: 1.33-1.37x
        cpprb's adds without them, 1.93-2.02x with them), and sampling loses 5-10%.
        """
        if not checked:
            indices = np.asarray(indices, dtype=np.int64).ravel()
            values = np.asarray(values, dtype=np.float64).ravel()
            if values.shape != indices.shape:
                raise ValueError(f"got {indices.size} indices but {values.size} values")
            if indices.size == 0:
                return
            if indices.min() < 0 or indices.max() >= self.capacity:
                raise IndexError(f"leaf indices must lie in [0, {self.capacity})")
        if self._kernels and not distinct:  # in order: the last write of a repeated index stays
            self._used = max(self._used, tree_kernels.write(self._flat_sums, indices, values) + 1)
        else:
            self._used = max(self._used, int(indices.max()) + 1)
            leaves = self._leaves
            leaves[indices] = values
            if not distinct and (leaves[indices] != values).any():
                # A repeated index kept another write than its last (NumPy does not promise the order).
                unique, first = np.unique(indices[::-1], return_index=True)
                leaves[unique] = values[::-1][first]
        self._mark_stale(indices)

    def reweight(self, indices: np.ndarray, priorities: np.ndarray, alpha: float) -> float:
        """
        Set the non-empty leaves among ``indices`` to ``priorities ** alpha``; an empty leaf stays empty.
        A replay buffer's priority update: the inputs are checked and written in one compiled call where
        numba is installed (the checks alone, in NumPy, cost a buffer's sample + update 6 to 8%).

        :param indices: Flat int64 leaf indices; where one repeats, its last priority stays
        :param priorities: Flat float64 priorities, one per index, finite and > 0
        :param alpha: The exponent
        :return: The largest priority written; 0.0 when every leaf was empty
        :raises ValueError: On a priority that is not finite and > 0, or an index that is not a leaf;
            nothing is written then
        """
        if self._kernels:
            highest = tree_kernels.reweight(self._flat_sums, self.capacity, indices, priorities, alpha)
            if highest == -1.0:
                raise ValueError(BAD_PRIORITY)
            if highest < 0.0:
                raise ValueError(f"Indices must lie in [0, {self.capacity})")
            self._mark_stale(indices)
            return highest
        highest = float(priorities.max())
        if not (priorities.min() > 0 and math.isfinite(highest)):
            raise ValueError(BAD_PRIORITY)
        if indices.view(np.uint64).max() >= self.capacity:  # a negative index reads as a huge one
            raise ValueError(f"Indices must lie in [0, {self.capacity})")
        keep = self._leaves[indices] > 0
        if not keep.all():
            indices, priorities = indices[keep], priorities[keep]
            highest = float(priorities.max()) if indices.size > 0 else 0.0
        if indices.size > 0:
            self.update(indices, priorities**alpha, checked=True)
        return highest

    def _mark_stale(self, indices: np.ndarray) -> None:
        """Remember the leaves written, for the next query's climb."""
        if self._rebuild:
            return
        self._stale.append(indices)
        self._n_stale += indices.size
        if self._n_stale >= self._written(1):  # the next query rebuilds: no need to remember which
            self._rebuild = True
            self._stale.clear()

    def _written(self, level: int) -> int:
        """Nodes of ``level`` up to the last one above a written leaf."""
        return -(-self._used // self.fanout**level)

    def _sync(self) -> None:
        """Recompute the nodes above the leaves written since the last sync."""
        if self._rebuild:
            for level in range(1, self._depth + 1):
                self._build(level)
        elif self._stale:
            self._climb(np.concatenate(self._stale))
        else:
            return
        self._stale.clear()
        self._n_stale = 0
        self._rebuild = False
        # Grown past `top` nodes at the scanned level: build the next level up from it.
        while self._depth < self.levels and self._written(self._depth) > self._top:
            self._depth += 1
            self._build(self._depth)

    def _build(self, level: int) -> None:
        """Recompute the written part of ``level`` from the level below."""
        n = self._written(level)
        sums = self._sums[level - 1][: n * self.fanout].reshape(n, self.fanout)
        self._sums[level][:n] = sums @ self._ones
        mins = np.where(sums > 0.0, sums, np.inf) if level == 1 else self._mins[level - 1][: n * self.fanout]
        self._mins[level][:n] = mins.reshape(n, self.fanout).min(axis=1)

    def _climb(self, leaves: np.ndarray) -> None:
        if self._kernels:
            args = (self._flat_sums, self._flat_mins, self._starts, self.fanout, self._depth, leaves)
            tree_kernels.climb(*args)
            return
        # Every node is recomputed from its children, never shifted by a delta: a node listed twice
        # gets the same value twice, so repeats need no deduplication. Children are gathered as rows
        # (one node's children are contiguous) and summed by a product; NumPy takes a minimum across
        # columns much faster than along short rows, hence the transposed copy.
        nodes = leaves
        for level in range(1, self._depth + 1):
            nodes = nodes // self.fanout
            sums = self._rows(self._sums[level - 1], nodes)
            self._sums[level][nodes] = sums @ self._ones
            if level == 1:
                columns = sums.T.copy()
                mins = np.where(columns > 0.0, columns, np.inf)
            else:
                mins = self._rows(self._mins[level - 1], nodes).T.copy()
            self._mins[level][nodes] = mins.min(axis=0)

    def _rows(self, level: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """The children of ``nodes`` in ``level`` (the level below them), one row per node."""
        return level.reshape(-1, self.fanout).take(nodes, axis=0)

    def reset(self) -> None:
        """Empty every leaf."""
        self._flat_sums.fill(0.0)
        self._flat_mins.fill(np.inf)
        self._stale.clear()
        self._n_stale = 0
        self._rebuild = False
        self._used = 1
        self._depth = 1

    def total(self) -> float:
        """Sum of all leaves."""
        self._sync()
        return float(self._sums[self._depth][: self._written(self._depth)].sum())

    def min(self) -> float:
        """Smallest positive leaf (``inf`` when every leaf is empty)."""
        self._sync()
        return float(self._mins[self._depth][: self._written(self._depth)].min())

    def find_prefixsum(self, prefixes: np.ndarray) -> np.ndarray:
        """
        For each prefix ``p`` in ``[0, total())`` find the leaf ``i`` with
        ``sum(leaves[:i]) <= p < sum(leaves[:i + 1])``.

        An empty leaf is never returned while ``total() > 0``, even when rounding (or a prefix at or
        past ``total()``) would lead the search into an empty subtree.

        :param prefixes: Prefix sums, any shape.
        :return: Leaf indices, same shape as ``prefixes``.
        """
        return self.find(prefixes)[0]

    def find(self, prefixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`find_prefixsum` with the values of the leaves found (a sampler's weights need them).

        :param prefixes: Prefix sums, any shape.
        :return: Leaf indices and their values, each of the shape of ``prefixes``.
        """
        self._sync()
        prefixes = np.asarray(prefixes, dtype=np.float64)
        flat = prefixes.ravel()
        if self._kernels:
            leaves, values = np.empty(flat.size, dtype=np.int64), np.empty(flat.size)
            n_scanned = self._written(self._depth)
            tree_kernels.descend(
                self._flat_sums, self._starts, self.fanout, self._depth, n_scanned, flat, leaves, values
            )
            return leaves.reshape(prefixes.shape), values.reshape(prefixes.shape)
        leaves = self._descend(flat, avoid_empty=False)
        values = self._leaves[leaves]
        # Rare: rounding led into an empty subtree or leaf; search again, never entering one.
        empty = values <= 0.0
        if empty.any():
            leaves[empty] = self._descend(flat[empty], avoid_empty=True)
            values = self._leaves[leaves]
        return leaves.reshape(prefixes.shape), values.reshape(prefixes.shape)

    def _descend(self, prefixes: np.ndarray, avoid_empty: bool) -> np.ndarray:
        # The level scanned: past its last non-empty node (a prefix at or past the total) stay in it.
        scanned = self._sums[self._depth][: self._written(self._depth)]
        edges = np.zeros(scanned.size + 1)
        np.cumsum(scanned, out=edges[1:])
        right_edges = edges[1:]
        last = np.searchsorted(right_edges, right_edges[-1])
        nodes = np.minimum(np.searchsorted(right_edges, prefixes, side="right"), last)
        remaining = prefixes - edges[nodes]
        # Down one level at a time for the whole batch: the last child whose children before it sum to
        # at most the remainder (a remainder at or past the node's sum stays on its last child).
        batch = np.arange(prefixes.size)
        for level in range(self._depth - 1, -1, -1):
            children = self._rows(self._sums[level], nodes)
            before = self._exclusive @ children.T  # [child, batch]: sum of the children before each
            offsets = (before[1:] <= remaining).sum(axis=0)
            if avoid_empty:  # at most the last non-empty child
                last_full = self.fanout - 1 - np.argmax(children[:, ::-1] > 0.0, axis=1)
                offsets = np.minimum(offsets, last_full)
            if level > 0:
                remaining -= before[offsets, batch]
            nodes = nodes * self.fanout + offsets
        return nodes
