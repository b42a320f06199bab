"""Vectorized segment trees (sum and min) for prioritized replay, in plain NumPy."""

from __future__ import annotations

import numpy as np


class SegmentTree:
    """
    A complete binary tree over ``capacity`` leaves (rounded up to a power of two) whose inner nodes
    hold a reduction of their children. Node 1 is the root, node ``i`` has children ``2i`` and
    ``2i + 1``, and leaf ``j`` is node ``capacity + j``. All operations take whole batches of indices.

    :param capacity: Number of leaves needed; the tree allocates the next power of two.
    """

    _reduce: np.ufunc
    _neutral: float

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = 1 << (capacity - 1).bit_length()
        self.depth = self.capacity.bit_length() - 1
        self._tree = np.full(2 * self.capacity, self._neutral, dtype=np.float64)
        self._levels = np.arange(1, self.depth + 1)[:, None]

    def __getitem__(self, indices: np.ndarray) -> np.ndarray:
        """Leaf values at ``indices``."""
        return self._tree[np.asarray(indices) + self.capacity]

    def update(self, indices: np.ndarray, values: np.ndarray) -> None:
        """
        Set leaves ``indices`` to ``values`` and recompute their ancestors.
        When an index repeats, the last write wins.
        """
        indices = np.asarray(indices, dtype=np.int64).ravel()
        if indices.size == 0:
            return
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.shape != indices.shape:
            raise ValueError(f"got {indices.size} indices but {values.size} values")
        # Sorted unique leaves; the first occurrence in the reversed batch is the last write.
        leaves, first = np.unique(indices[::-1], return_index=True)
        if leaves[0] < 0 or leaves[-1] >= self.capacity:
            raise IndexError(f"leaf indices must lie in [0, {self.capacity})")
        tree = self._tree
        tree[leaves + self.capacity] = values[::-1][first]
        # Ancestors of every leaf, one row per level from the bottom up. A parent listed twice gets
        # the same value twice, which is harmless and cheaper than deduplicating each level.
        parents = (leaves + self.capacity) >> self._levels
        lefts = parents << 1
        for parent, left, right in zip(parents, lefts, lefts + 1, strict=True):
            tree[parent] = self._reduce(tree[left], tree[right])

    def reset(self) -> None:
        """Set every leaf back to the neutral value."""
        self._tree.fill(self._neutral)

    def reduce(self) -> float:
        """Reduction over all leaves (the root)."""
        return float(self._tree[1])


class SumTree(SegmentTree):
    """
    Segment tree of sums; empty leaves are 0.

    :param capacity: Number of leaves needed; the tree allocates the next power of two.
    """

    _reduce = np.add
    _neutral = 0.0

    def total(self) -> float:
        """Sum of all leaves."""
        return self.reduce()

    def find_prefixsum(self, prefixes: np.ndarray) -> np.ndarray:
        """
        For each prefix ``p`` in ``[0, total())`` find the leaf ``i`` with
        ``sum(leaves[:i]) <= p < sum(leaves[:i + 1])``, descending one level at a time for the batch.

        A leaf of value 0 is never returned while ``total() > 0``, even when rounding (or a prefix
        at or past ``total()``) would lead the descent into an empty subtree.

        :param prefixes: Prefix sums, any shape.
        :return: Leaf indices, same shape as ``prefixes``.
        """
        prefixes = np.asarray(prefixes, dtype=np.float64)
        flat = prefixes.ravel()
        nodes = self._descend(flat, avoid_empty=False)
        # Rare: rounding led into an empty subtree; descend again, never entering one.
        empty = self._tree[nodes] <= 0.0
        if empty.any():
            nodes[empty] = self._descend(flat[empty], avoid_empty=True)
        return (nodes - self.capacity).reshape(prefixes.shape)

    def _descend(self, prefixes: np.ndarray, avoid_empty: bool) -> np.ndarray:
        remaining = prefixes.copy()
        nodes = np.ones(remaining.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = nodes << 1
            left_sum = self._tree[left]
            go_right = remaining >= left_sum
            if avoid_empty:
                go_right &= self._tree[left + 1] > 0.0
            remaining -= left_sum * go_right
            nodes = left + go_right
        return nodes


class MinTree(SegmentTree):
    """
    Segment tree of minima; empty leaves are ``+inf``.

    :param capacity: Number of leaves needed; the tree allocates the next power of two.
    """

    _reduce = np.minimum
    _neutral = np.inf

    def min(self) -> float:
        """Minimum over all leaves (``inf`` when every leaf is empty)."""
        return self.reduce()
