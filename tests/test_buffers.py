"""Tests of the replay storage room: the priority tree and the prioritized replay buffer."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.save_util import load_from_pkl, save_to_pkl

from sb3_marl.buffers import PrioritizedReplayBuffer, PriorityTree, tree_kernels

OBS_SPACE = spaces.Box(-np.inf, np.inf, (2,), np.float32)
ACTION_SPACE = spaces.Discrete(3)


def make_buffer(buffer_size: int = 8, n_envs: int = 1, **kwargs) -> PrioritizedReplayBuffer:
    return PrioritizedReplayBuffer(
        buffer_size, OBS_SPACE, ACTION_SPACE, device="cpu", n_envs=n_envs, **kwargs
    )


def add_step(
    buffer: ReplayBuffer,
    t: int,
    n_envs: int,
    dones: np.ndarray | None = None,
    infos: list[dict] | None = None,
    rewards: np.ndarray | None = None,
    **arrays: np.ndarray | None,
) -> None:
    """Add step ``t``: obs ``[t, env]``, next obs ``[t + 0.5, env]``, action ``t % 3``; ``arrays``:
    ``next_action_masks`` and ``active`` for a PrioritizedReplayBuffer."""
    envs = np.arange(n_envs, dtype=np.float32)
    obs = np.stack([np.full(n_envs, t, dtype=np.float32), envs], axis=1)
    next_obs = obs + np.array([0.5, 0.0], dtype=np.float32)
    reward = np.full(n_envs, float(t)) if rewards is None else rewards
    done = np.zeros(n_envs) if dones is None else dones
    buffer.add(
        obs, next_obs, np.full(n_envs, t % 3), reward, done, infos or [{} for _ in range(n_envs)], **arrays
    )


def naive_levels(leaves: np.ndarray, fanout: int, levels: int) -> tuple[list, list]:
    """
    The sums and minima of every level of a :class:`PriorityTree` over ``leaves`` (padded to whole top
    nodes), recomputed level by level from the leaves, one node at a time.
    """
    sums, mins = [leaves], [np.where(leaves > 0, leaves, np.inf)]
    for _ in range(levels):
        below_sums, below_mins = sums[-1], mins[-1]
        n = len(below_sums) // fanout
        sums.append(np.array([below_sums[i * fanout : (i + 1) * fanout].sum() for i in range(n)]))
        mins.append(np.array([below_mins[i * fanout : (i + 1) * fanout].min() for i in range(n)]))
    return sums, mins


# ---- priority tree -----------------------------------------------------------------------------


def test_tree_sum_and_min_after_updates():
    # Fan-out 2 and a top level of 1 node: a plain binary tree over 8 leaves.
    tree = PriorityTree(5, fanout=2, top=1)
    assert tree.levels == 3 and tree.n_top == 1
    assert tree.total() == 0.0 and tree.min() == np.inf
    tree.update(np.arange(5), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert tree.total() == 15.0 and tree.min() == 1.0
    # Nodes by hand: [1+2, 3+4, 5+0, 0+0] then [3+7, 5+0] then 15.
    np.testing.assert_array_equal(tree._sums[1], [3, 7, 5, 0])
    np.testing.assert_array_equal(tree._sums[2], [10, 5])
    np.testing.assert_array_equal(tree._mins[1], [1, 3, 5, np.inf])
    np.testing.assert_array_equal(tree._mins[2], [1, 5])
    # Repeated index: the last write wins, and the ancestors follow it.
    tree.update(np.array([0, 3, 0]), np.array([9.0, 0.5, 6.0]))
    np.testing.assert_array_equal(tree[np.arange(5)], [6, 2, 3, 0.5, 5])
    assert tree.total() == 16.5 and tree.min() == 0.5
    np.testing.assert_array_equal(tree._sums[1], [8, 3.5, 5, 0])
    np.testing.assert_array_equal(tree._sums[2], [11.5, 5])
    # Empty leaves do not count for the minimum.
    tree.update(np.array([3]), np.array([0.0]))
    assert tree.total() == 16.0 and tree.min() == 2.0


def test_tree_levels_stop_at_the_top():
    tree = PriorityTree(1_000_000)
    assert tree.n_top <= 4096 and tree.n_top * tree.fanout ** (tree.levels - 1) > 4096
    assert 1_000_000 <= tree.n_top * tree.fanout**tree.levels < 1_000_000 * 1.01  # little padding


def test_tree_capacity_one():
    tree = PriorityTree(1)
    tree.update(np.array([0]), np.array([2.5]))
    assert tree.total() == 2.5
    np.testing.assert_array_equal(tree.find_prefixsum(np.array([0.0, 2.4])), [0, 0])


def test_find_prefixsum_on_hand_made_tree():
    tree = PriorityTree(4, fanout=2, top=1)
    tree.update(np.arange(4), np.array([1.0, 0.0, 2.0, 3.0]))
    prefixes = np.array([0.0, 0.99, 1.0, 2.5, 2.999, 3.0, 5.99])
    np.testing.assert_array_equal(tree.find_prefixsum(prefixes), [0, 0, 2, 2, 2, 3, 3])
    # Shape is kept.
    assert tree.find_prefixsum(prefixes.reshape(7, 1)).shape == (7, 1)


def test_find_prefixsum_never_returns_an_empty_leaf_past_the_right_edge():
    for fanout, top in ((2, 1), (4, 1), (16, 4096)):
        tree = PriorityTree(4, fanout=fanout, top=top)
        tree.update(np.arange(4), np.array([1.0, 2.0, 0.0, 0.0]))
        # At or past the total (what rounding can produce) the search must stay on written leaves.
        np.testing.assert_array_equal(
            tree.find_prefixsum(np.array([3.0, 10.0, np.nextafter(3.0, 4.0)])), [1, 1, 1]
        )


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 40),
    fanout=st.sampled_from([2, 3, 8, 16]),
    top=st.sampled_from([1, 2, 3, 4096]),
    batches=st.lists(
        st.lists(
            st.tuples(st.integers(0, 39), st.sampled_from([0.0, 0.25, 1.0, 3.5, 1e-3, 7.0])), max_size=12
        ),
        min_size=1,
        max_size=8,
    ),
)
@pytest.mark.parametrize("compiled", [False, None])  # None: the compiled loops where numba is installed
def test_tree_matches_naive_recomputation(compiled, capacity, fanout, top, batches):
    tree = PriorityTree(capacity, fanout=fanout, top=top, compiled=compiled)
    leaves = np.zeros(tree.n_top * fanout**tree.levels)
    for k, batch in enumerate(batches):
        indices = np.array([i % capacity for i, _ in batch], dtype=np.int64)
        values = np.array([v for _, v in batch])
        tree.update(indices, values)
        for i, v in zip(indices, values, strict=True):  # sequential writes: the last one wins
            leaves[i] = v
        np.testing.assert_array_equal(tree[np.arange(len(leaves))], leaves)
        if k % 2 == 0 and k < len(batches) - 1:
            continue  # leave two updates' nodes stale before the next query
        # total() brings the nodes up to date: by a climb from the written leaves, or by a rebuild
        # once as many leaves as level 1 has written nodes were written (both happen here).
        assert tree.total() == pytest.approx(leaves.sum(), rel=1e-12)
        assert tree.min() == (leaves[leaves > 0].min() if (leaves > 0).any() else np.inf)
        naive_sums, naive_mins = naive_levels(leaves, fanout, tree.levels)
        for level in range(1, tree._depth + 1):  # the levels kept, up to the scanned one
            np.testing.assert_allclose(tree._sums[level], naive_sums[level], rtol=1e-12)
            np.testing.assert_array_equal(tree._mins[level], naive_mins[level])
        if tree.total() > 0:
            prefixes = np.linspace(0.0, tree.total(), 17)
            found = tree.find_prefixsum(prefixes)
            assert np.all(leaves[found] > 0)
            # The leaf whose interval holds the prefix, unless rounding could move it across an edge.
            cumulative = np.cumsum(leaves)
            expected = np.searchsorted(cumulative, prefixes, side="right")
            near_edge = np.isclose(prefixes[:, None], cumulative).any(axis=1)
            assert np.all((found == expected) | near_edge)


@pytest.mark.parametrize("compiled", [False, None])
def test_reweight_checks_everything_then_writes_the_non_empty_leaves(compiled):
    tree = PriorityTree(8, fanout=2, top=1, compiled=compiled)
    tree.update(np.arange(4), np.ones(4))  # leaves 4 to 7 stay empty
    # leaf 1 keeps its last write (16 ** 0.5); empty leaf 5 stays empty; the largest written is 16
    assert tree.reweight(np.array([1, 5, 1]), np.array([4.0, 9.0, 16.0]), 0.5) == 16.0
    assert tree.reweight(np.array([6]), np.array([2.0]), 0.5) == 0.0
    expected = [1.0, 4.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert tree[np.arange(8)].tolist() == expected and tree.total() == 7.0
    for bad in (0.0, -1.0, np.nan, np.inf):  # the good first write is not made either
        with pytest.raises(ValueError, match="finite and > 0"):
            tree.reweight(np.array([0, 2]), np.array([9.0, bad]), 0.5)
    for index in (8, -1):
        with pytest.raises(ValueError, match=r"Indices must lie in \[0, 8\)"):
            tree.reweight(np.array([0, index]), np.array([9.0, 9.0]), 0.5)
    assert tree[np.arange(8)].tolist() == expected and tree.total() == 7.0


@pytest.mark.parametrize("compiled", [False, None])
def test_a_prefix_at_an_edge_never_finds_an_empty_leaf(compiled):
    # Found by hypothesis: 8.001 lies on the edge after leaf 7, where rounding left the compiled search
    # a remainder below 0, so it took a last child, an empty one, down to the padding leaf 15.
    tree = PriorityTree(11, fanout=2, top=2, compiled=compiled)
    tree.update(np.array([0, 4, 6, 7, 8, 9, 10]), np.array([3.5, 0.001, 1.0, 3.5, 1.0, 0.001, 7.0]))
    leaves, values = tree.find(np.linspace(0.0, tree.total(), 17))
    assert leaves[8] == 8 and np.all(values > 0)


@pytest.mark.skipif(not tree_kernels.AVAILABLE, reason="numba not installed: the next test runs instead")
def test_compiled_and_numpy_trees_agree():
    # Quarters keep every sum exact, so both paths must find the same leaves, not merely close ones.
    rng = np.random.default_rng(1)
    trees = [PriorityTree(1000, fanout=4, top=8, compiled=compiled) for compiled in (True, False)]
    assert [tree._kernels for tree in trees] == [True, False]
    for size in (3, 50, 7, 400, 1000, 256, 256):
        indices = rng.integers(0, min(1000, 5 * size), size)  # repeats included
        values = rng.integers(0, 40, size) / 4.0  # empty leaves included
        for tree in trees:
            tree.update(indices, values)
        prefixes = np.sort(rng.random(64)) * trees[0].total()
        (leaves, found), (numpy_leaves, numpy_found) = (tree.find(prefixes) for tree in trees)
        np.testing.assert_array_equal(leaves, numpy_leaves)
        np.testing.assert_array_equal(found, numpy_found)
        assert trees[0].min() == trees[1].min() and trees[0].total() == trees[1].total()
        for level in range(1, trees[0]._depth + 1):
            np.testing.assert_array_equal(trees[0]._sums[level], trees[1]._sums[level])
            np.testing.assert_array_equal(trees[0]._mins[level], trees[1]._mins[level])


def test_compiled_tree_needs_numba(monkeypatch):
    monkeypatch.setattr(tree_kernels, "AVAILABLE", False)
    with pytest.raises(ImportError, match="pip install numba"):
        PriorityTree(4, compiled=True)
    assert not PriorityTree(4)._kernels  # the NumPy path


def test_tree_pickle_keeps_levels_in_the_flat_arrays():
    tree = PriorityTree(100, fanout=4, top=2)
    tree.update(np.arange(100), np.arange(100) / 8.0)
    loaded = pickle.loads(pickle.dumps(tree))
    # An older pickle: the levels as separate arrays, no flat ones.
    old = {k: v for k, v in tree.__getstate__().items() if k not in ("_flat_sums", "_flat_mins", "_starts")}
    old_loaded = PriorityTree.__new__(PriorityTree)
    old_loaded.__setstate__({**old, "_sums": [a.copy() for a in tree._sums], "_mins": list(tree._mins)})
    for copy in (loaded, old_loaded):
        assert all(np.shares_memory(level, copy._flat_sums) for level in copy._sums)
        copy.update(np.array([99]), np.array([0.0]))
        assert copy.total() == tree.total() - 99 / 8.0 and copy.min() == 1 / 8.0


def test_tree_keeps_levels_as_the_leaves_fill():
    # Fan-out 2 over 1000 leaves and at most 4 scanned nodes: the levels kept grow with the written part.
    tree = PriorityTree(1000, fanout=2, top=4)
    rng = np.random.default_rng(0)
    leaves = np.zeros(1000)
    depths = []
    for end in (1, 3, 9, 17, 100, 513, 1000):
        values = rng.random(end) + 0.1
        tree.update(np.arange(end), values)
        leaves[:end] = values
        assert tree.total() == pytest.approx(leaves.sum(), rel=1e-12)
        assert tree.min() == leaves[leaves > 0].min()
        assert tree._written(tree._depth) <= 4
        depths.append(tree._depth)
        # The middle of every written leaf's interval finds that leaf.
        cumulative = np.cumsum(leaves[:end])
        np.testing.assert_array_equal(tree.find_prefixsum(cumulative - values / 2), np.arange(end))
    assert depths == sorted(depths) and depths[0] == 1 and depths[-1] == tree.levels


# ---- prioritized buffer ------------------------------------------------------------------------


def test_sampling_frequencies_match_priorities():
    alpha = 0.6
    buffer = make_buffer(buffer_size=10, alpha=alpha)
    for t in range(10):
        add_step(buffer, t, 1)
    priorities = np.arange(1.0, 11.0)
    buffer.update_priorities(np.arange(10), priorities)
    expected = priorities**alpha / (priorities**alpha).sum()
    np.random.seed(0)
    draws = np.concatenate([buffer.sample(1000).indices for _ in range(200)])  # 200k draws
    frequencies = np.bincount(draws, minlength=10) / len(draws)
    # Binomial standard deviation is below 1e-3 here; stratification only lowers it.
    assert np.abs(frequencies - expected).max() < 4e-3


def test_importance_weights_closed_form():
    alpha, beta = 0.5, 0.4
    buffer = make_buffer(buffer_size=5, alpha=alpha)
    for t in range(5):
        add_step(buffer, t, 1, active=np.array([t != 4]))
    priorities = np.array([2.0, 3.0, 4.0, 0.05])
    buffer.update_priorities(np.arange(4), priorities)
    probabilities = priorities**alpha / (priorities**alpha).sum()
    n = 4  # the inactive transition is not counted
    raw = (n * probabilities) ** -beta
    expected = raw / raw.max()  # the maximum is over all stored transitions, not over the batch
    np.random.seed(1)
    seen = set()
    for _ in range(40):
        samples = buffer.sample(4, beta=beta)
        assert samples.weights.shape == (4, 1)
        np.testing.assert_allclose(samples.weights.numpy()[:, 0], expected[samples.indices], rtol=1e-6)
        seen.add(3 in samples.indices)
    assert seen == {True, False}  # some batches miss the transition of largest weight


def test_update_priorities_lands_on_the_right_leaves():
    alpha = 0.7
    n_envs = 3
    buffer = make_buffer(buffer_size=12, n_envs=n_envs, alpha=alpha)
    for t in range(4):
        add_step(buffer, t, n_envs)
    np.testing.assert_array_equal(buffer.priorities(np.arange(12)), np.ones(12))
    buffer.update_priorities(np.array([5, 7]), np.array([2.0, 3.0]))
    expected = np.ones(12)
    expected[[5, 7]] = [2.0**alpha, 3.0**alpha]
    np.testing.assert_allclose(buffer.priorities(np.arange(12)), expected)
    assert buffer.max_priority == 3.0
    # Leaf 5 is row 1, env 2; leaf 7 is row 2, env 1.
    batch = buffer._samples_at(np.array([5, 7]), np.ones(2))
    np.testing.assert_array_equal(batch.observations.numpy(), [[1.0, 2.0], [2.0, 1.0]])
    # New transitions (overwriting row 0) get the largest priority so far.
    add_step(buffer, 4, n_envs)
    np.testing.assert_allclose(buffer.priorities(np.arange(3)), [3.0**alpha] * 3)


def test_inactive_slots_are_never_sampled_nor_revived():
    n_envs = 4
    for alpha in (0.6, 0.0):
        buffer = make_buffer(buffer_size=40, n_envs=n_envs, alpha=alpha)
        for t in range(13):  # wraps around once
            add_step(buffer, t, n_envs, active=np.array([env not in (1, 3) for env in range(n_envs)]))
        np.random.seed(2)
        samples = buffer.sample(20_000)
        assert set(np.unique(samples.indices % n_envs)) == {0, 2}
        # Priority 0 stays 0 even when updated (e.g. with a stale index).
        buffer.update_priorities(np.array([1, 2]), np.array([5.0, 5.0]))
        assert buffer.priorities(np.array([1]))[0] == 0.0
        if alpha == 0.0:  # uniform mode
            torch_weights = buffer.sample(256).weights
            assert bool((torch_weights == 1.0).all())
            np.testing.assert_array_equal(np.unique(buffer.priorities(np.arange(40))), [0.0, 1.0])


@settings(max_examples=40, deadline=None)
@given(
    alpha=st.sampled_from([0.0, 0.6, 1.0]),
    operations=st.lists(
        st.one_of(
            st.tuples(st.just("add"), st.lists(st.booleans(), min_size=3, max_size=3)),
            st.tuples(
                st.just("update"),
                st.lists(st.tuples(st.integers(0, 14), st.floats(1e-3, 50.0)), min_size=1, max_size=6),
            ),
        ),
        max_size=25,
    ),
)
def test_random_adds_and_updates_keep_priorities_consistent(alpha, operations):
    n_envs = 3
    buffer = make_buffer(buffer_size=15, n_envs=n_envs, alpha=alpha)
    model = np.zeros(15)  # priority ** alpha of each leaf, kept naively
    max_priority, row = 1.0, 0
    for t, (kind, data) in enumerate(operations):
        if kind == "add":
            add_step(buffer, t, n_envs, active=~np.array(data))
            for env, inactive in enumerate(data):
                model[row * n_envs + env] = 0.0 if inactive else max_priority**alpha
            row = (row + 1) % 5
        else:
            indices = np.array([i for i, _ in data])
            priorities = np.array([p for _, p in data])
            buffer.update_priorities(indices, priorities)
            for i, p in data:
                if model[i] > 0:
                    model[i] = p**alpha
                    max_priority = max(max_priority, p)
        np.testing.assert_allclose(buffer.priorities(np.arange(15)), model, rtol=1e-12)
        assert buffer._tree.total() == pytest.approx(model.sum(), rel=1e-12)
        if (model > 0).any():
            assert buffer._tree.min() == pytest.approx(model[model > 0].min(), rel=1e-12)
        else:
            assert buffer._tree.min() == np.inf
        assert buffer.max_priority == max_priority


def test_sample_fails_clearly_without_sampleable_transitions():
    buffer = make_buffer()
    with pytest.raises(RuntimeError, match="No transition to sample"):
        buffer.sample(4)
    add_step(buffer, 0, 1, active=np.array([False]))
    with pytest.raises(RuntimeError, match="inactive"):
        buffer.sample(4)


def fill_pair(n_envs: int, n_steps: int, n_added: int, seed: int, buffer_size: int = 30):
    """A PrioritizedReplayBuffer and an SB3 reference buffer filled with identical random data."""
    rng = np.random.default_rng(seed)
    ours = make_buffer(buffer_size=buffer_size, n_envs=n_envs, n_steps=n_steps, gamma=0.9)
    if n_steps > 1:
        ref: ReplayBuffer = NStepReplayBuffer(
            buffer_size, OBS_SPACE, ACTION_SPACE, device="cpu", n_envs=n_envs, n_steps=n_steps, gamma=0.9
        )
    else:
        ref = ReplayBuffer(buffer_size, OBS_SPACE, ACTION_SPACE, device="cpu", n_envs=n_envs)
    for t in range(n_added):
        dones = rng.random(n_envs) < 0.25
        truncated = rng.random(n_envs) < 0.15  # also without done, which SB3 treats as an end too
        infos = [{"TimeLimit.truncated": bool(tr)} for tr in truncated]
        rewards = rng.normal(size=n_envs).astype(np.float32)
        for buffer in (ours, ref):
            add_step(buffer, t, n_envs, dones=dones.astype(np.float32), infos=infos, rewards=rewards)
    return ours, ref


@pytest.mark.parametrize(
    ("n_steps", "n_added"),
    [(3, 7), (3, 10), (4, 23), (5, 16), (1, 13)],
)
def test_n_step_matches_sb3(n_steps, n_added):
    n_envs = 3
    for seed in range(3):
        ours, ref = fill_pair(n_envs, n_steps, n_added, seed)
        rows = np.tile(np.arange(ref.size()), 4)
        np.random.seed(seed)
        cols = np.random.randint(0, n_envs, size=rows.shape)
        np.random.seed(seed)
        expected = ref._get_samples(rows)
        got = ours._samples_at(rows * n_envs + cols, np.ones(len(rows)))
        for field in ("observations", "actions", "next_observations", "dones", "rewards"):
            np.testing.assert_allclose(
                getattr(got, field).numpy(), getattr(expected, field).numpy(), rtol=1e-6, err_msg=field
            )
        expected_discounts = expected.discounts.numpy() if n_steps > 1 else np.full((len(rows), 1), 0.9)
        np.testing.assert_allclose(got.discounts.numpy(), expected_discounts, rtol=1e-6)


def test_next_action_masks_align_with_next_observations():
    n_envs, n_actions = 2, 4

    def mask_of(t: int, env: int) -> np.ndarray:
        return np.arange(n_actions) != (t + env) % n_actions

    buffer = make_buffer(buffer_size=20, n_envs=n_envs, n_steps=3, action_mask_dim=n_actions)
    for t in range(14):
        masks = np.stack([mask_of(t, env) for env in range(n_envs)]) if t != 5 else None
        dones = np.array([t % 4 == 3, t % 5 == 4], dtype=np.float32)
        add_step(buffer, t, n_envs, dones=dones, next_action_masks=masks)
    np.random.seed(3)
    samples = buffer.sample(200)
    masks = samples.next_action_masks.numpy()
    assert masks.dtype == bool
    for next_obs, mask in zip(samples.next_observations.numpy(), masks, strict=True):
        t, env = int(next_obs[0] - 0.5), int(next_obs[1])
        expected = np.ones(n_actions, dtype=bool) if t == 5 else mask_of(t, env)
        np.testing.assert_array_equal(mask, expected)
    # n-step really looked ahead for some samples.
    assert (samples.next_observations[:, 0] - samples.observations[:, 0] > 1).any()
    no_masks = make_buffer()
    add_step(no_masks, 0, 1)
    assert no_masks.sample(2).next_action_masks is None


def test_mask_storage_starts_with_the_first_masks():
    buffer = make_buffer(buffer_size=10, action_mask_dim=3)
    add_step(buffer, 0, 1)  # an env without masks: nothing is stored
    assert buffer.next_action_masks is None and buffer.sample(2).next_action_masks is None
    add_step(buffer, 1, 1, next_action_masks=np.array([[True, False, True]]))
    np.testing.assert_array_equal(buffer.next_action_masks[:2, 0], [[True, True, True], [True, False, True]])


def test_pickle_keeps_priorities(tmp_path):
    buffer = make_buffer(buffer_size=16, n_envs=2, n_steps=2, alpha=0.5)
    for t in range(6):
        add_step(buffer, t, 2, active=np.array([True, t != 2]))
    buffer.update_priorities(np.array([0, 3, 6]), np.array([0.1, 4.0, 9.0]))
    path = tmp_path / "buffer.pkl"
    save_to_pkl(path, buffer)
    loaded = load_from_pkl(path)
    np.testing.assert_array_equal(loaded.priorities(np.arange(16)), buffer.priorities(np.arange(16)))
    assert loaded.max_priority == buffer.max_priority == 9.0
    assert loaded._tree.min() == buffer._tree.min()
    np.random.seed(4)
    first = buffer.sample(32)
    np.random.seed(4)
    second = loaded.sample(32)
    np.testing.assert_array_equal(first.indices, second.indices)
    np.testing.assert_array_equal(first.weights.numpy(), second.weights.numpy())


def test_reset_clears_priorities():
    buffer = make_buffer()
    add_step(buffer, 0, 1)
    buffer.update_priorities(np.array([0]), np.array([5.0]))
    buffer.reset()
    assert buffer._tree.total() == 0.0 and buffer._tree.min() == np.inf
    assert buffer.max_priority == 1.0 and buffer.size() == 0


def test_clear_errors():
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        make_buffer(alpha=-0.1)
    with pytest.raises(ValueError, match="optimize_memory_usage=False"):
        make_buffer(optimize_memory_usage=True, handle_timeout_termination=False)
    with pytest.raises(ValueError, match="n_steps"):
        make_buffer(n_steps=0)
    with pytest.raises(ValueError, match="MlpPolicy"):
        PrioritizedReplayBuffer(8, spaces.Dict({"a": OBS_SPACE}), ACTION_SPACE)
    buffer = make_buffer()
    add_step(buffer, 0, 1)
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="finite and > 0"):
            buffer.update_priorities(np.array([0]), np.array([bad]))
    with pytest.raises(ValueError, match="Indices"):
        buffer.update_priorities(np.array([8]), np.array([1.0]))
    with pytest.raises(ValueError, match="beta"):
        buffer.sample(2, beta=-1.0)


def test_works_as_dqn_replay_buffer():
    from stable_baselines3 import DQN

    model = DQN(
        "MlpPolicy",
        "CartPole-v1",
        buffer_size=500,
        learning_starts=50,
        batch_size=16,
        replay_buffer_class=PrioritizedReplayBuffer,
        replay_buffer_kwargs={"alpha": 0.6, "n_steps": 3, "gamma": 0.99},
        seed=0,
        device="cpu",
    )
    model.learn(200)
    assert isinstance(model.replay_buffer, PrioritizedReplayBuffer)
    assert model.replay_buffer.sample(8).discounts.shape == (8, 1)
