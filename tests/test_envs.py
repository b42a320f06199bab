"""The env layer: slot layout, SB3's done protocol, early deaths, padding, masks, AEC turns, the VecEnv
methods, subprocess copies and the errors, on real PettingZoo envs and on small synthetic ones."""

from __future__ import annotations

import re
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import supersuit as ss
from envs_for_tests import N_ACTIONS, DeathEnv, MixedSpacesEnv, TurnEnv, legal
from gymnasium import spaces
from mpe2 import simple_speaker_listener_v4
from pettingzoo.butterfly import knights_archers_zombies_v11
from pettingzoo.utils.wrappers import OrderEnforcingWrapper, TerminateIllegalWrapper
from stable_baselines3.common.monitor import Monitor

from sb3_marl.envs import MultiAgentVecEnv, MultiAgentVecMonitor, make_vec_env

SB3_MAKE = re.escape("stable_baselines3.common.env_util.make_vec_env")
KAZ = "pettingzoo.butterfly.knights_archers_zombies_v11"
KAZ_KWARGS = dict(spawn_delay=3, max_cycles=200)  # zombies come fast: agents die within ~120 steps


def envs_of(*envs: Any) -> list:
    """Constructors that hand out the given env objects, so that a test can look into them."""
    return [lambda env=env: env for env in envs]


@pytest.fixture
def closing():
    """Collects VecEnvs and closes them after the test."""
    made: list = []
    yield made.append
    for venv in made:
        venv.close()


# -- agents that leave early (parallel) -----------------------------------------------------------


def test_agent_death_protocol(closing):
    # a1 terminates at step 2, a2 is terminated and truncated at step 3, a0 is truncated at max_steps 5
    ends = {"a1": (2, True, False), "a2": (3, True, True)}
    env, other = DeathEnv(ends=ends, max_steps=5), DeathEnv(max_steps=3)
    venv = MultiAgentVecEnv(envs_of(env, other))
    closing(venv)
    assert venv.num_envs == 6 and venv.num_agents == 3 and venv.num_copies == 2
    assert venv.slot_agents == ["a0", "a1", "a2"] * 2
    assert venv.slot_copies.tolist() == [0, 0, 0, 1, 1, 1]
    obs = venv.reset()
    np.testing.assert_array_equal(obs[:3], [[0, 0], [1, 0], [2, 0]])

    # per step t: which of a0, a1, a2 (copy 0) are done, which are inactive, which flag a truncation
    done_at = {2: [1], 3: [2], 5: [0]}
    inactive_at = {3: [1], 4: [1, 2], 5: [1, 2]}
    truncated_at = {5: [0]}
    for t in range(1, 7):
        env_t = (t - 1) % 5 + 1  # the env's own step count: it resets after step 5
        obs, rewards, dones, infos = venv.step(np.array([1, 2, 1, 2, 0, 1]))
        assert dones.dtype == bool
        inactive = inactive_at.get(t, [])
        out = inactive + done_at.get(t, [])
        for k in range(3):
            info = infos[k]
            assert bool(dones[k]) == (k in done_at.get(t, []))
            assert info.get("inactive", False) == (k in inactive)
            assert rewards[k] == (0.0 if k in inactive else DeathEnv.reward(k, env_t))
            if dones[k]:
                np.testing.assert_array_equal(info["terminal_observation"], [k, env_t])
                assert info["TimeLimit.truncated"] == (k in truncated_at.get(t, []))
            else:
                assert "terminal_observation" not in info
        # the copy resets exactly when its last agent is done (step 5), not before
        assert all(info.get("copy_done", False) == (t == 5) for info in infos[:3])
        assert env.n_resets == (1 if t < 5 else 2)
        masks = venv.action_masks()
        if t == 5:
            np.testing.assert_array_equal(obs[:3], [[0, 0], [1, 0], [2, 0]])
            assert venv.reset_infos[:3] == [{"t": 0}] * 3
            assert masks[:3].all()
        else:  # a slot out of the episode shows zeros and allows action 0 only
            for k in range(3):
                np.testing.assert_array_equal(obs[k], [0, 0] if k in out else [k, env_t])
                assert masks[k].tolist() == ([True, False, False] if k in out else [True] * N_ACTIONS)
        # copy 1 is untouched by copy 0's deaths: its agents all truncate together every 3 steps
        assert dones[3:].tolist() == [t % 3 == 0] * 3
        assert all(info["TimeLimit.truncated"] == (t % 3 == 0) for info in infos[3:])

    # no phantom step: dead agents' actions never reach the env
    everyone = {"a0", "a1", "a2"}
    assert [set(a) for a in env.actions] == [everyone, everyone, {"a0", "a2"}, {"a0"}, {"a0"}, everyone]
    assert env.actions[0] == {"a0": 1, "a1": 2, "a2": 1}


def test_done_without_last_observation_keeps_the_one_before(closing):
    env = DeathEnv(ends={"a1": (2, True, False)}, omit_done_obs=True)
    venv = MultiAgentVecEnv(envs_of(env))
    closing(venv)
    venv.reset()
    venv.step(np.zeros(3, dtype=int))
    _, _, dones, infos = venv.step(np.zeros(3, dtype=int))
    assert dones.tolist() == [False, True, False]
    np.testing.assert_array_equal(infos[1]["terminal_observation"], [1, 1])
    assert infos[1]["TimeLimit.truncated"] is False


def test_monitor_per_agent_and_team_episodes(closing):
    ends = {"a1": (2, True, False), "a2": (3, False, True)}
    venv = make_vec_env(lambda: DeathEnv(ends=ends, max_steps=5))
    closing(venv)
    assert isinstance(venv, MultiAgentVecMonitor)
    venv.reset()
    episodes: dict[int, list] = {0: [], 1: [], 2: []}
    teams = []
    for _ in range(10):  # two episodes of 5 steps
        _, _, _, infos = venv.step(np.zeros(3, dtype=int))
        for k, info in enumerate(infos):
            if "episode" in info:
                episodes[k].append((info["episode"]["r"], info["episode"]["l"]))
        if "team_episode" in infos[0]:
            teams.append(infos[0]["team_episode"])
            assert all(info["team_episode"] == infos[0]["team_episode"] for info in infos)
            assert infos[0]["team_episode"] is not infos[1]["team_episode"]
    lengths = {0: 5, 1: 2, 2: 3}
    returns = {k: sum(DeathEnv.reward(k, t) for t in range(1, n + 1)) for k, n in lengths.items()}
    for k in range(3):  # inactive steps count neither in the length nor in the return
        assert episodes[k] == [pytest.approx((returns[k], lengths[k]))] * 2
    team = {
        "r": pytest.approx(sum(returns.values())),
        "l": 5,
        "agent_returns": {f"a{k}": returns[k] for k in range(3)},
    }
    assert teams == [team, team]


# -- action masks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["info", "obs"])
def test_env_action_masks(closing, where):
    env = DeathEnv(ends={"a2": (1, True, False)}, info_masks=where == "info", obs_masks=where == "obs")
    venv = MultiAgentVecEnv(envs_of(env))
    closing(venv)
    venv.reset()
    np.testing.assert_array_equal(venv.action_masks(), [legal(k, 0) for k in range(3)])
    _, _, _, infos = venv.step(np.zeros(3, dtype=int))
    expected = [legal(0, 1), legal(1, 1), [True, False, False]]  # a2 is dead: action 0 only
    np.testing.assert_array_equal(venv.action_masks(), expected)
    np.testing.assert_array_equal(np.stack(venv.env_method("action_masks")), expected)
    np.testing.assert_array_equal([info["action_mask"] for info in infos], expected)
    np.testing.assert_array_equal(infos[2]["terminal_action_mask"], legal(2, 1))  # a2's mask as it died
    np.testing.assert_array_equal(venv.env_method("action_masks", indices=[1])[0], expected[1])
    np.testing.assert_array_equal(venv.get_attr("action_masks", indices=[0])[0](), expected[0])
    assert not legal(0, 1)[1]
    with pytest.raises(ValueError, match="illegal for agent 'a0'"):
        venv.step(np.array([1, 0, 0]))
    venv.step(np.array([0, 2, 1]))  # the dead slot's action is ignored, even an illegal one
    assert env.actions[-1] == {"a0": 0, "a1": 2}


def test_action_mask_in_obs(closing):
    env = DeathEnv(ends={"a1": (1, True, False)}, info_masks=True, max_steps=2)
    venv = MultiAgentVecEnv(envs_of(env), action_mask_in_obs=True)
    closing(venv)
    assert isinstance(venv.observation_space, spaces.Dict)
    obs = venv.reset()
    assert venv.observation_space.contains({k: v[0] for k, v in obs.items()})
    np.testing.assert_array_equal(obs["action_mask"], [legal(k, 0) for k in range(3)])
    obs, _, dones, infos = venv.step(np.zeros(3, dtype=int))
    assert dones.tolist() == [False, True, False]
    np.testing.assert_array_equal(obs["action_mask"], [legal(0, 1), [1, 0, 0], legal(2, 1)])
    terminal = infos[1]["terminal_observation"]  # the mask of the agent's own last observation
    np.testing.assert_array_equal(terminal["observation"], [1, 1])
    np.testing.assert_array_equal(terminal["action_mask"], legal(1, 1))
    np.testing.assert_array_equal(infos[1]["terminal_action_mask"], legal(1, 1))


# -- turn-based AEC -------------------------------------------------------------------------------


def test_aec_turns_and_waiting_rewards(closing):
    env = TurnEnv(n_players=2, n_moves=3)
    venv = make_vec_env(lambda: env)
    closing(venv)
    assert venv.is_aec
    venv.reset()
    np.testing.assert_array_equal(venv.action_masks(), [[1, 1, 1], [1, 0, 0]])
    # move 1: p0 plays 2; p1 waits (its action 1 is ignored) and is credited its reward at once
    obs, rewards, dones, infos = venv.step(np.array([2, 1]))
    assert rewards.tolist() == [2.0, TurnEnv.waiting_reward(0, 1)]
    assert env.moves == [("p0", 2)]
    np.testing.assert_array_equal(venv.action_masks(), [[1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(obs, [[0, 1], [1, 1]])
    assert not dones.any() and not any(info.get("inactive") for info in infos)
    # move 2: p1 plays 1
    _, rewards, dones, _ = venv.step(np.array([2, 1]))
    assert rewards.tolist() == [TurnEnv.waiting_reward(1, 2), 1.0]
    # move 3 ends the game: both done at once, the waiting p1's reward arrives once, not twice
    _, rewards, dones, infos = venv.step(np.array([0, 0]))
    assert rewards.tolist() == [0.0, TurnEnv.waiting_reward(0, 3)]
    assert dones.tolist() == [True, True]
    assert [info["TimeLimit.truncated"] for info in infos] == [False, False]
    np.testing.assert_array_equal([info["terminal_observation"] for info in infos], [[0, 3], [1, 3]])
    assert env.moves == [("p0", 2), ("p1", 1), ("p0", 0)]
    team = infos[0]["team_episode"]
    assert team["l"] == 3
    assert team["agent_returns"] == {
        "p0": 2.0 + TurnEnv.waiting_reward(1, 2),
        "p1": TurnEnv.waiting_reward(0, 1) + 1.0 + TurnEnv.waiting_reward(0, 3),
    }
    np.testing.assert_array_equal(venv.action_masks(), [[1, 1, 1], [1, 0, 0]])  # a new game


def test_aec_truncation_flags(closing):
    venv = MultiAgentVecEnv([lambda: TurnEnv(n_players=3, n_moves=2, truncate=True)])
    closing(venv)
    venv.reset()
    venv.step(np.zeros(3, dtype=int))
    _, _, dones, infos = venv.step(np.zeros(3, dtype=int))
    assert dones.tolist() == [True] * 3
    assert [info["TimeLimit.truncated"] for info in infos] == [True] * 3


def test_connect_four(closing):
    venv = make_vec_env("pettingzoo.classic.connect_four_v3", n_envs=2, seed=0)
    closing(venv)
    venv.reset()
    assert venv.observation_space.shape == (6, 7, 2) and venv.action_space == spaces.Discrete(7)
    assert venv.env_is_wrapped(OrderEnforcingWrapper) == [True] * 4
    assert venv.env_is_wrapped(TerminateIllegalWrapper) == [True] * 4
    assert venv.env_is_wrapped(Monitor) == [False] * 4
    # copy 0: player_0 stacks column 0, player_1 column 1, the waiting slot is given column 6;
    # copy 1: both players fill column 3, then player_0 plays column 4
    for move in range(7):
        mover = move % 2
        actions = np.array([6, 6, 6, 6])
        actions[mover] = mover
        actions[2 + mover] = 3 if move < 6 else 4
        _, rewards, dones, infos = venv.step(actions)
        board = np.asarray(venv.get_attr("board", indices=[0])[0]).reshape(6, 7)
        if move < 6:
            assert (board[:, 6] == 0).all()  # the waiting slot's action was ignored
            assert board[:, mover].tolist().count(mover + 1) == move // 2 + 1
            assert rewards.tolist() == [0.0] * 4 and not dones.any()
            np.testing.assert_array_equal(venv.action_masks()[1 - mover], [True] * 7)
            np.testing.assert_array_equal(venv.action_masks()[mover], [True] + [False] * 6)
    # the 7th move wins for player_0; the waiting player_1's -1 arrives at the same step
    assert rewards.tolist() == [1.0, -1.0, 0.0, 0.0]
    assert dones.tolist() == [True, True, False, False]
    assert [info["TimeLimit.truncated"] for info in infos[:2]] == [False, False]
    assert infos[0]["team_episode"]["agent_returns"] == {"player_0": 1.0, "player_1": -1.0}
    assert np.asarray(venv.get_attr("board", indices=[0])[0]).sum() == 0  # copy 0 was reset
    # in copy 1, column 3 is full: player_1 may not play it
    assert venv.action_masks()[3].tolist() == [True] * 3 + [False] + [True] * 3
    with pytest.raises(ValueError, match="illegal for agent 'player_1'"):
        venv.step(np.array([0, 0, 0, 3]))


# -- real parallel envs ---------------------------------------------------------------------------


def test_knights_archers_zombies_in_lockstep_with_the_env(closing):
    """The VecEnv reports exactly what the env does, slot by slot, across deaths and a copy reset."""
    venv = make_vec_env(KAZ, seed=0, env_kwargs=KAZ_KWARGS)
    closing(venv)
    ref = knights_archers_zombies_v11.parallel_env(**KAZ_KWARGS)
    agents = ref.possible_agents
    assert venv.env_is_wrapped(OrderEnforcingWrapper) == [True] * 4  # inside aec_to_parallel
    obs = venv.reset()
    ref_obs, _ = ref.reset(seed=0)
    rng = np.random.default_rng(0)
    deaths = resets = 0
    for _ in range(200):
        np.testing.assert_array_equal(obs, [ref_obs.get(a, np.zeros_like(obs[0])) for a in agents])
        actions = rng.integers(0, 6, len(agents))
        live = list(ref.agents)
        obs, rewards, dones, infos = venv.step(actions)
        ref_obs, ref_rew, term, trunc, _ = ref.step({a: int(actions[agents.index(a)]) for a in live})
        for k, a in enumerate(agents):
            if a not in live:  # dead before this step: inactive, no reward, not done
                assert infos[k]["inactive"] and rewards[k] == 0 and not dones[k]
                continue
            assert "inactive" not in infos[k]
            assert rewards[k] == ref_rew[a]
            assert dones[k] == (term[a] or trunc[a])
            if dones[k]:
                np.testing.assert_array_equal(infos[k]["terminal_observation"], ref_obs[a])
                assert infos[k]["TimeLimit.truncated"] == (trunc[a] and not term[a])
        if ref.agents:
            deaths += int(dones.sum())  # agents done while others play on
            assert not any(info.get("copy_done") for info in infos)
            ref_obs = {a: ref_obs[a] for a in ref.agents}
        else:
            assert all(info["copy_done"] for info in infos)
            ref_obs, _ = ref.reset()
            resets += 1
    assert deaths > 0 and resets > 0


def test_simple_spread(closing):
    venv = make_vec_env("mpe2.simple_spread_v3", n_envs=2, seed=3)
    closing(venv)
    assert (venv.num_agents, venv.num_envs) == (3, 6)
    obs = venv.reset()
    assert obs.shape == (6, 18) and venv.observation_space.shape == (18,)
    assert venv.get_state().shape == (2, *venv.state_space.shape)
    np.testing.assert_array_equal(venv.get_state()[0, :18], obs[0])  # mpe2's state: observations joined
    team_return, rng = np.zeros(2), np.random.default_rng(0)
    for t in range(1, 26):
        obs, rewards, dones, infos = venv.step(rng.integers(0, 5, 6))
        team_return += rewards.reshape(2, 3).sum(axis=1)
        assert dones.tolist() == [t == 25] * 6
    # the 25-cycle limit is a truncation; the terminal observation is the last one, not the reset one
    assert all(info["TimeLimit.truncated"] for info in infos)
    assert not np.array_equal(infos[0]["terminal_observation"], obs[0])
    for c in range(2):
        assert infos[3 * c]["team_episode"]["r"] == pytest.approx(team_return[c], rel=1e-5)
        assert infos[3 * c]["team_episode"]["l"] == 25


def test_speaker_listener_padding_and_agent_indicator(closing):
    venv = make_vec_env("mpe2.simple_speaker_listener_v4", seed=0, agent_indicator=True)
    closing(venv)
    raw = simple_speaker_listener_v4.parallel_env()
    dims = [raw.observation_space(a).shape[0] for a in raw.possible_agents]
    ns = [raw.action_space(a).n for a in raw.possible_agents]
    raw_obs, _ = raw.reset(seed=0)
    obs = venv.reset()
    assert venv.observation_space.shape == (max(dims) + 2,) and venv.action_space.n == max(ns)
    for k, a in enumerate(raw.possible_agents):
        padded = np.concatenate([raw_obs[a], np.zeros(max(dims) - dims[k]), np.eye(2)[k]])
        np.testing.assert_array_equal(obs[k], padded.astype(np.float32))
        assert venv.action_masks()[k].tolist() == [True] * ns[k] + [False] * (max(ns) - ns[k])
    speaker = int(np.argmin(ns))
    actions = np.zeros(2, dtype=int)
    actions[speaker] = max(ns) - 1
    with pytest.raises(ValueError, match="padding action"):
        venv.step(actions)
    venv.step(np.zeros(2, dtype=int))  # still usable


def test_pistonball_with_supersuit_wrappers(closing):
    def small(env):
        return ss.resize_v1(ss.color_reduction_v0(env, mode="B"), 16, 16)

    kwargs = dict(continuous=False, n_pistons=4, max_cycles=20)
    venv = make_vec_env("pettingzoo.butterfly.pistonball_v6", env_kwargs=kwargs, wrapper_class=small, seed=0)
    closing(venv)
    obs = venv.reset()
    assert obs.shape == (4, 16, 16) and obs.dtype == np.uint8
    assert venv.get_state().shape == (1, *venv.state_space.shape)
    for t in range(1, 21):
        _, _, dones, infos = venv.step(np.ones(4, dtype=int))
        assert dones.tolist() == [t == 20] * 4
    assert [info["TimeLimit.truncated"] for info in infos] == [True] * 4
    assert infos[0]["terminal_observation"].shape == (16, 16)


# -- the rest of the VecEnv contract --------------------------------------------------------------


def test_attrs_methods_and_wrappers_per_slot(closing):
    envs = [DeathEnv(), DeathEnv()]
    venv = MultiAgentVecEnv(envs_of(*envs))
    closing(venv)
    assert venv.get_attr("max_steps") == [5] * 6
    venv.set_attr("max_steps", 9, indices=[4])  # a slot of copy 1: its env, shared by its 3 slots
    assert venv.get_attr("max_steps") == [5] * 3 + [9] * 3
    assert venv.get_attr("max_steps", indices=[0, 5]) == [5, 9]
    assert venv.has_attr("max_steps") and not venv.has_attr("no_such_attr")
    venv.reset()
    venv.step(np.zeros(6, dtype=int))
    assert venv.env_method("state", indices=[1, 3]) == [pytest.approx([1, 3])] * 2
    np.testing.assert_array_equal(venv.get_state(), [[1, 3], [1, 3]])
    assert venv.env_method("reward", 2, 4) == [24.0] * 6
    assert venv.env_is_wrapped(DeathEnv) == [True] * 6
    assert venv.env_is_wrapped(Monitor, indices=2) == [False]
    assert envs[1].max_steps == 9 and envs[0].max_steps == 5


def test_seed(closing):
    venv = make_vec_env("mpe2.simple_spread_v3", n_envs=2)
    closing(venv)
    firsts = []
    for seed in (1, 1, 2):
        assert venv.seed(seed) == list(range(seed, seed + 6))
        firsts.append(venv.reset())
    np.testing.assert_array_equal(firsts[0], firsts[1])
    assert not np.array_equal(firsts[0], firsts[2])
    assert not np.array_equal(firsts[0][:3], firsts[0][3:])  # copies get different seeds
    unseeded = venv.reset()  # the seed is used once
    assert not np.array_equal(unseeded, firsts[2])


def test_render_tiles_copies(closing):
    venv = MultiAgentVecEnv([lambda: DeathEnv(render_mode="rgb_array")] * 2)
    closing(venv)
    venv.reset()
    venv.step(np.zeros(6, dtype=int))
    images = venv.get_images()
    assert len(images) == 2 and all((image == 1).all() for image in images)
    assert venv.render(mode="rgb_array").shape == (8, 4, 3)  # 2 copies tiled


def test_close_is_idempotent():
    venv = make_vec_env(lambda: DeathEnv())
    venv.close()
    venv.close()
    assert venv.venv.closed


# -- subprocess copies ----------------------------------------------------------------------------


def test_subprocess_copies_match_in_process(closing):
    kw = dict(n_envs=2, seed=5, env_kwargs=KAZ_KWARGS)
    local, remote = make_vec_env(KAZ, **kw), make_vec_env(KAZ, subprocess=True, **kw)
    closing(local)
    closing(remote)
    np.testing.assert_array_equal(local.reset(), remote.reset())
    rng = np.random.default_rng(1)
    n_done = 0
    for _ in range(150):
        actions = rng.integers(0, 6, local.num_envs)
        (o1, r1, d1, i1), (o2, r2, d2, i2) = local.step(actions), remote.step(actions)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(d1, d2)
        for a, b in zip(i1, i2, strict=True):
            assert a.get("inactive") == b.get("inactive")
            if "terminal_observation" in a:
                np.testing.assert_array_equal(a["terminal_observation"], b["terminal_observation"])
        n_done += int(d1.sum())
    assert n_done > 0
    assert remote.get_attr("possible_agents", indices=[0, 7]) == [local.possible_agents] * 2
    # errors come back as themselves, and leave no answer behind in a pipe
    assert not remote.has_attr("no_such_attr")
    with pytest.raises(ValueError, match="outside the action space"):
        remote.step(np.full(8, 6))
    remote.step(np.zeros(8, dtype=int))
    processes = [copy.process for copy in remote.venv._copies]
    remote.close()
    assert not any(p.is_alive() for p in processes)


def test_subprocess_synthetic_env_and_errors(closing):
    env_fn = lambda: DeathEnv(ends={"a1": (2, True, False)}, info_masks=True)  # noqa: E731
    venv = MultiAgentVecEnv([env_fn] * 2, subprocess=True)
    closing(venv)
    venv.reset()
    venv.step(np.zeros(6, dtype=int))
    with pytest.raises(ValueError, match="illegal for agent 'a0'"):  # legal(0, 1) forbids action 1
        venv.step(np.array([1, 0, 0, 1, 0, 0]))  # raised in both copies: neither steps
    _, _, dones, infos = venv.step(np.zeros(6, dtype=int))
    assert dones.tolist() == [False, True, False] * 2
    np.testing.assert_array_equal(infos[4]["terminal_observation"], [1, 2])
    act_spaces = [spaces.Box(0, 1, (1,)), spaces.Box(0, 1, (2,))]
    with pytest.raises(ValueError, match="Cannot pad action spaces"):  # raised in the subprocess
        MultiAgentVecEnv([lambda: MixedSpacesEnv([spaces.Box(0, 1, (2,))] * 2, act_spaces)], subprocess=True)


# -- errors ---------------------------------------------------------------------------------------


def test_error_for_gymnasium_envs():
    with pytest.raises(TypeError, match=SB3_MAKE):
        make_vec_env(lambda: gym.make("CartPole-v1"))
    with pytest.raises(TypeError, match=SB3_MAKE):
        make_vec_env(gym.make("CartPole-v1"))
    with pytest.raises(TypeError, match=SB3_MAKE):
        make_vec_env("CartPole-v1")
    with pytest.raises(TypeError, match="callable that returns a new env"):
        make_vec_env(DeathEnv())


def test_error_for_unknown_env_path():
    with pytest.raises(ValueError, match=r"Unknown env 'pettingzoo\.butterfly\.no_such_env_v0'"):
        make_vec_env("pettingzoo.butterfly.no_such_env_v0")
    with pytest.raises(ValueError, match="not a PettingZoo env module"):
        make_vec_env("json")


@pytest.mark.parametrize(
    ("obs_spaces", "act_spaces", "kwargs", "message"),
    [
        (
            [spaces.Box(0, 1, (2, 2)), spaces.Box(0, 1, (3, 3))],
            [spaces.Discrete(2)] * 2,
            {},
            "Cannot apply padding",
        ),
        (
            [spaces.Box(0, 1, (2, 2))] * 2,
            [spaces.Discrete(2)] * 2,
            {"agent_indicator": True},
            "an agent indicator",
        ),
        (
            [spaces.Box(0, 1, (2,))] * 2,
            [spaces.Discrete(2), spaces.Box(0, 1, (1,))],
            {},
            "Cannot pad action spaces",
        ),
        ([spaces.Dict({"x": spaces.Box(0, 1, (2,))})] * 2, [spaces.Discrete(2)] * 2, {}, "only array spaces"),
        (
            [spaces.Box(0, 1, (2,))] * 2,
            [spaces.Box(0, 1, (1,))] * 2,
            {"action_mask_in_obs": True},
            "needs a Discrete",
        ),
    ],
)
def test_error_for_spaces_that_cannot_be_shared(obs_spaces, act_spaces, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_vec_env(lambda: MixedSpacesEnv(obs_spaces, act_spaces), **kwargs)


def test_error_for_actions_out_of_range(closing):
    venv = make_vec_env(lambda: DeathEnv())
    closing(venv)
    venv.reset()
    for bad in (N_ACTIONS, -1):
        with pytest.raises(ValueError, match=f"Action {bad} for slot 1"):
            venv.step(np.array([0, bad, 0]))
    venv.step(np.zeros(3, dtype=int))
