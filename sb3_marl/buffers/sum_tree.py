"""Sum and min trees over blocks of priorities, for prioritized replay, in plain NumPy."""

from __future__ import annotations

import numpy as np


class PriorityTree:
    """
    Non-negative leaf values (priorities) with their sum, their minimum and a search by prefix sum, all
    batched. A leaf of value 0 is empty: it is never found by :meth:`find_prefixsum` and does not
    count for :meth:`min`.

    The leaves are one array, cut into blocks of ``block`` leaves. Two binary trees over the blocks
    (not the leaves) hold the sum and the minimum positive leaf under each node: node ``i`` has children
    ``2i`` and ``2i + 1``, and block ``b`` is node ``n_nodes + b``. The trees are kept from the blocks
    up to the lowest level whose written part (up to the last block ever written: a replay buffer fills
    from the front) has at most ``top`` nodes; ``total()``, ``min()`` and ``find_prefixsum()`` reduce or
    scan that part. As the leaves fill, the next level up is built from the one below; a full tree has
    ``levels`` levels over its blocks and ``n_top`` nodes (``n_top`` to ``2 * n_top - 1``) on top.

    An update writes its leaves at once and leaves the nodes above them stale until the next query,
    which recomputes the blocks of every leaf written since and climbs the few levels up to the top,
    or rebuilds the whole tree after writes to as many leaves as there are blocks. The adds and
    priority updates between two samples thus share one climb. Leaves past ``capacity`` pad the last
    top node and stay empty.

    :param capacity: Number of leaves
    :param block: Leaves per block
    :param top: Most nodes in the top level
    """

    def __init__(self, capacity: int, block: int = 8, top: int = 4096):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if block < 1 or top < 1:
            raise ValueError(f"block and top must be >= 1, got {block} and {top}")
        self.capacity = capacity
        self.block = block
        self._top = top
        n_blocks = -(-capacity // block)
        # Levels from the blocks up to the top, where each top node covers 2 ** levels blocks.
        self.levels = (-(-n_blocks // top) - 1).bit_length()
        self.n_top = -(-n_blocks // (1 << self.levels))
        self.n_nodes = self.n_top << self.levels  # blocks, padded to whole top nodes
        self._leaves = np.zeros(self.n_nodes * block)
        self._sums = np.zeros(2 * self.n_nodes)
        self._mins = np.full(2 * self.n_nodes, np.inf)
        self._shifts = np.arange(1, self.levels + 1)[:, None]
        self._in_block = np.arange(block)[:, None]
        self._stale: list[np.ndarray] = []  # leaves written since the nodes were last recomputed
        self._n_stale = 0
        self._used_blocks = 1  # blocks up to the last one ever written (at least one: scans need a node)
        self._depth = 0  # levels kept over the blocks; the scans read the highest

    def __getitem__(self, indices: np.ndarray) -> np.ndarray:
        """Leaf values at ``indices``."""
        return self._leaves[indices]

    def update(self, indices: np.ndarray, values: np.ndarray, checked: bool = False) -> None:
        """
        Set leaves ``indices`` to ``values`` (>= 0); the nodes above them follow at the next query.
        When an index repeats, the last write wins.

        :param indices: Leaf indices, in ``[0, capacity)``
        :param values: One value per index
        :param checked: The caller has made ``indices`` a flat int64 array in range and ``values`` a
            float array of the same shape, as the replay buffer does: the checks are skipped
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
        self._used_blocks = max(self._used_blocks, int(indices.max()) // self.block + 1)
        leaves = self._leaves
        leaves[indices] = values
        if (leaves[indices] != values).any():
            # A repeated index kept another write than its last (NumPy does not promise the order).
            unique, first = np.unique(indices[::-1], return_index=True)
            leaves[unique] = values[::-1][first]
        self._n_stale += indices.size
        if self._n_stale < self.n_nodes:
            self._stale.append(indices)
        else:  # the next query rebuilds everything: no need to remember which leaves
            self._stale.clear()

    def _sync(self) -> None:
        """Recompute the nodes above the leaves written since the last sync."""
        if self._n_stale == 0:
            return
        if self._n_stale >= self.n_nodes:
            self._rebuild()
        else:
            self._climb(np.concatenate(self._stale) // self.block)
        self._stale.clear()
        self._n_stale = 0
        # Grown past `top` nodes at the scanned level: build the next level up from it.
        while self._depth < self.levels and -(-self._used_blocks >> self._depth) > self._top:
            self._build_level_above(self._depth)
            self._depth += 1

    def _build_level_above(self, depth: int) -> None:
        """Recompute the written part of level ``depth + 1`` from level ``depth``."""
        start = self.n_nodes >> depth
        stop = start + 2 * -(-self._used_blocks >> (depth + 1))  # whole pairs of children
        parents = slice(start // 2, stop // 2)
        self._sums[parents] = self._sums[start:stop].reshape(-1, 2).sum(axis=1)
        self._mins[parents] = self._mins[start:stop].reshape(-1, 2).min(axis=1)

    def _scanned(self) -> tuple[int, int]:
        """The nodes the scans read: the written part of the highest level kept."""
        start = self.n_nodes >> self._depth
        return start, start + -(-self._used_blocks >> self._depth)

    def _climb(self, blocks: np.ndarray) -> None:
        # Every node is recomputed from its children (blocks from their leaves), never shifted by a
        # delta: a node listed twice gets the same value twice, so repeats need no deduplication.
        columns = self._block_columns(blocks)
        nodes = blocks + self.n_nodes
        sums, mins = self._sums, self._mins
        sums[nodes] = columns.sum(axis=0)
        mins[nodes] = np.where(columns > 0.0, columns, np.inf).min(axis=0)
        parents = nodes >> self._shifts[: self._depth]  # one row per level kept, from the bottom up
        lefts = parents << 1
        for parent, left, right in zip(parents, lefts, lefts + 1, strict=True):
            sums[parent] = sums[left] + sums[right]
            mins[parent] = np.minimum(mins[left], mins[right])

    def _rebuild(self) -> None:
        # The written blocks from their leaves, then each level kept from the one below.
        n, used = self.n_nodes, self._used_blocks
        columns = self._leaves[: used * self.block].reshape(used, self.block)
        self._sums[n : n + used] = columns.sum(axis=1)
        self._mins[n : n + used] = np.where(columns > 0.0, columns, np.inf).min(axis=1)
        for depth in range(self._depth):
            self._build_level_above(depth)

    def reset(self) -> None:
        """Empty every leaf."""
        self._leaves.fill(0.0)
        self._sums.fill(0.0)
        self._mins.fill(np.inf)
        self._stale.clear()
        self._n_stale = 0
        self._used_blocks = 1
        self._depth = 0

    def total(self) -> float:
        """Sum of all leaves."""
        self._sync()
        start, stop = self._scanned()
        return float(self._sums[start:stop].sum())

    def min(self) -> float:
        """Smallest positive leaf (``inf`` when every leaf is empty)."""
        self._sync()
        start, stop = self._scanned()
        return float(self._mins[start:stop].min())

    def find_prefixsum(self, prefixes: np.ndarray) -> np.ndarray:
        """
        For each prefix ``p`` in ``[0, total())`` find the leaf ``i`` with
        ``sum(leaves[:i]) <= p < sum(leaves[:i + 1])``.

        An empty leaf is never returned while ``total() > 0``, even when rounding (or a prefix at or
        past ``total()``) would lead the search into an empty subtree.

        :param prefixes: Prefix sums, any shape.
        :return: Leaf indices, same shape as ``prefixes``.
        """
        self._sync()
        prefixes = np.asarray(prefixes, dtype=np.float64)
        flat = prefixes.ravel()
        leaves = self._descend(flat, avoid_empty=False)
        # Rare: rounding led into an empty subtree or leaf; search again, never entering one.
        empty = self._leaves[leaves] <= 0.0
        if empty.any():
            leaves[empty] = self._descend(flat[empty], avoid_empty=True)
        return leaves.reshape(prefixes.shape)

    def _descend(self, prefixes: np.ndarray, avoid_empty: bool) -> np.ndarray:
        # The highest level kept: a scan. Past its last non-empty node (a prefix at or past the total)
        # stay in it.
        start, stop = self._scanned()
        top_sums = self._sums[start:stop]
        edges = np.zeros(top_sums.size + 1)
        np.cumsum(top_sums, out=edges[1:])
        right_edges = edges[1:]
        last = np.searchsorted(right_edges, right_edges[-1])
        top = np.minimum(np.searchsorted(right_edges, prefixes, side="right"), last)
        remaining = prefixes - edges[top]
        # Down the tree to a block, one level at a time for the whole batch.
        sums = self._sums
        nodes = top + start
        for _ in range(self._depth):
            left = nodes << 1
            left_sum = sums[left]
            go_right = remaining >= left_sum
            if avoid_empty:
                go_right &= sums[left + 1] > 0.0
            remaining -= left_sum * go_right
            nodes = left + go_right
        # Inside the block: the first leaf whose running sum passes the remainder.
        # A remainder at or past the block's sum stays on its last leaf.
        blocks = nodes - self.n_nodes
        columns = self._block_columns(blocks)
        running = columns.cumsum(axis=0)
        running[-1] = np.inf
        offsets = (running <= remaining).sum(axis=0)
        if avoid_empty:  # at most the block's last non-empty leaf
            offsets = np.minimum(offsets, self.block - 1 - np.argmax(columns[::-1] > 0.0, axis=0))
        return blocks * self.block + offsets

    def _block_columns(self, blocks: np.ndarray) -> np.ndarray:
        """The leaves of ``blocks``, one column per block: NumPy reduces across columns much faster."""
        return self._leaves[blocks * self.block + self._in_block]
