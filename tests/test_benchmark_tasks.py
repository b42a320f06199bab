"""The learning benchmark's tasks beyond simple_spread: speaker_listener's padded roles, pistonball's
pixels and the cooperative Blind Cliffwalk, evaluated alike for every method (sb3_marl.benchmark)."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.learning import default_budget
from sb3_marl.benchmark.cliffwalk import RIGHT
from sb3_marl.benchmark.methods import TASKS, env_methods, get_method, supersuit_env
from sb3_marl.benchmark.runs import evaluate_team, greedy


def test_each_task_has_its_methods_and_its_preset_budget():
    assert [m.name for m in env_methods("speaker_listener")] == [
        "madqn",
        "madqn_noid",
        "supersuit_dqn",
        "random",
    ]
    assert [m.name for m in env_methods("pistonball")] == ["madqn", "supersuit_dqn", "random"]
    # The presets' n_timesteps count agent steps: 4e5 over 2 agents, 2e5 over 5.
    assert default_budget("speaker_listener", quick=False) == (200_000, 5_000)
    assert default_budget("pistonball", quick=False) == (40_000, 5_000)
    madqn, noid = (get_method("speaker_listener", name).preset() for name in ("madqn", "madqn_noid"))
    assert madqn["agent_indicator"] is True and noid["agent_indicator"] is False
    dqn = get_method("pistonball", "supersuit_dqn").preset()
    assert "dueling" not in dqn["policy_kwargs"]
    assert dqn["env_wrapper"] == get_method("pistonball", "madqn").preset()["env_wrapper"]


def test_a_runs_env_wrapper_is_the_one_its_envs_get():
    """Training and evaluation envs take the env_wrapper of the run's own preset, not the shipped one
    (84x84): a run made with other wrappers records and gets those."""
    from sb3_marl.benchmark.methods import build_madqn, build_supersuit_dqn

    wrapper = [
        {"supersuit.color_reduction_v0": {"mode": "B"}},
        {"supersuit.resize_v1": {"x_size": 42, "y_size": 42}},
        {"supersuit.frame_stack_v1": {"stack_size": 2}},
    ]
    for name, build in (("madqn", build_madqn), ("supersuit_dqn", build_supersuit_dqn)):
        preset = {**get_method("pistonball", name).preset(), "env_wrapper": wrapper, "buffer_size": 10}
        preset.pop("n_timesteps", None)
        model = build("pistonball")(0, preset)
        assert model.observation_space.shape == (2, 42, 42), name  # channels first, as SB3's CNN takes them
        model.get_env().close()
    venv = TASKS["pistonball"].make_vec_env(1, 0, wrapper=wrapper)
    assert venv.observation_space.shape == (42, 42, 2)
    venv.close()


def test_supersuit_route_sees_the_observations_our_env_gives():
    """SuperSuit's padding and agent indicator write speaker_listener's observations as our VecEnv does, so
    SB3's DQN trained on SuperSuit's path is evaluated on our env, as every method is."""
    env = supersuit_env("speaker_listener", agent_indicator=True)
    obs, _ = env.reset(seed=3)
    venv = TASKS["speaker_listener"].make_vec_env(1, 3, agent_indicator=True)
    ours = venv.reset()
    for slot, agent in enumerate(env.agents):
        np.testing.assert_array_equal(obs[agent], ours[slot])
    venv.close()


def test_speaker_listener_padding_alone_tells_the_roles_apart():
    """Without the agent id the padded observations still say who is who: the speaker's 3 entries are
    followed by 8 zeros of padding, the listener's 11 (velocity, landmark offsets, message) are never
    all 0 there. So on this task the agent id adds nothing a network cannot already read."""
    venv = TASKS["speaker_listener"].make_vec_env(2, 0, agent_indicator=False)
    obs, rng = venv.reset(), np.random.default_rng(0)
    for _ in range(300):  # 12 episodes of 25 cycles
        tails = np.abs(obs[:, 3:]).sum(axis=1).reshape(2, 2)  # (copy, [speaker, listener])
        assert np.all(tails[:, 0] == 0) and np.all(tails[:, 1] > 0)
        obs, *_ = venv.step(np.array([rng.choice(np.flatnonzero(m)) for m in venv.action_masks()]))
    venv.close()


class _Fixed:
    """A model that always predicts ``actions`` (SB3's predict, without action masks)."""

    def __init__(self, actions: list[int]):
        self.actions = np.array(actions)

    def predict(self, obs: np.ndarray, deterministic: bool = False) -> tuple[np.ndarray, None]:
        return self.actions, None


def test_greedy_maps_illegal_actions_to_0_as_supersuit_does():
    masks = np.array([[True, True, True, False, False], [True] * 5])
    act = greedy(_Fixed([4, 4]))  # type: ignore[arg-type]
    np.testing.assert_array_equal(act(np.zeros((2, 13)), masks), [0, 4])


def test_random_play_takes_legal_actions_only_and_every_one_of_them():
    act = get_method("speaker_listener", "random").policy(np.random.default_rng(0))  # type: ignore[misc]
    masks = np.tile([[True, True, True, False, False], [True] * 5], (500, 1))
    actions = act(np.zeros((1000, 13)), masks).reshape(500, 2)
    assert set(actions[:, 0]) == {0, 1, 2} and set(actions[:, 1]) == {0, 1, 2, 3, 4}


def test_evaluate_team_plays_whole_episodes_the_same_each_time():
    venv = TASKS["speaker_listener"].make_vec_env(2, 0, agent_indicator=True)
    act = get_method("speaker_listener", "random").policy(np.random.default_rng(0))  # type: ignore[misc]
    returns = evaluate_team(act, venv, 3, seed=5)
    assert len(returns) == 3 and all(r < 0 for r in returns)
    assert returns == evaluate_team(
        get_method("speaker_listener", "random").policy(np.random.default_rng(0)),  # type: ignore[misc]
        venv,
        3,
        seed=5,
    )
    venv.close()


def _walk(steps: list[tuple[int, int]]) -> list[tuple[float, bool]]:
    """Each step's (agent_0's reward, whether the episode ended) on one copy of the task's cliffwalk."""
    venv = TASKS["cliffwalk"].make_vec_env(1, 0)
    venv.reset()
    out = []
    for actions in steps:
        _, rewards, dones, _ = venv.step(np.array(actions))
        out.append((float(rewards[0]), bool(dones[0])))
    venv.close()
    return out


def test_cliffwalk_pays_only_a_team_that_is_right_at_every_state():
    from sb3_marl import make_vec_env

    right = [(RIGHT[0][0], RIGHT[1][0]), (RIGHT[0][1], RIGHT[1][1])]
    assert RIGHT[0][:3] != RIGHT[1][:3]  # the agents differ in what is right
    venv = make_vec_env("sb3_marl.benchmark.cliffwalk", n_envs=1, env_kwargs={"length": 3})
    obs = venv.reset()
    np.testing.assert_array_equal(obs, [[1, 0, 0, 1, 0], [1, 0, 0, 0, 1]])  # the state, then the agent
    for actions in right:
        obs, rewards, dones, _ = venv.step(np.array(actions))
        assert rewards.tolist() == [0, 0] and not dones.any()
    np.testing.assert_array_equal(obs, [[0, 0, 1, 1, 0], [0, 0, 1, 0, 1]])
    _, rewards, dones, infos = venv.step(np.array([RIGHT[0][2], RIGHT[1][2]]))
    assert rewards.tolist() == [1, 1] and dones.all()
    assert not infos[0].get("TimeLimit.truncated", False)
    venv.close()
    # One agent wrong, at the first state or the second: the episode ends there, unpaid.
    assert TASKS["cliffwalk"].env_kwargs == {"n_agents": 2, "length": 6}
    assert _walk([(RIGHT[0][0], 1 - RIGHT[1][0])]) == [(0.0, True)]
    assert _walk([right[0], (1 - RIGHT[0][1], RIGHT[1][1])]) == [(0.0, False), (0.0, True)]


def test_random_team_finds_the_cliffwalk_reward_once_in_2_to_the_10_episodes():
    from sb3_marl import make_vec_env

    venv = make_vec_env("sb3_marl.benchmark.cliffwalk", n_envs=16, seed=0, env_kwargs={"length": 5})
    act = get_method("cliffwalk", "random").policy(np.random.default_rng(0))  # type: ignore[misc]
    returns = evaluate_team(act, venv, 20_000, seed=1)
    venv.close()
    assert set(returns) <= {0.0, 2.0}
    # 2 agents, 5 states: 1 / 1024 of episodes pay 2; the binomial 99.9% range of 20,000 is 5 to 37.
    assert 5 <= returns.count(2.0) <= 37


def test_per_priorities_reads_the_buffer_of_a_pettingzoo_task(tmp_path: Any) -> None:
    import json

    from benchmarks import per_priorities

    output = tmp_path / "rows.json"
    per_priorities.main(["--env", "cliffwalk", "--steps", "1500", "--every", "500", "--output", str(output)])
    rows = json.loads(output.read_text())["rows"]
    # Every 496 joint steps (62 steps of the 8 copies), once learning has started (at 500)
    assert [row["steps"] for row in rows] == [992, 1488]
    for row in rows:
        assert 0 <= row["paid_stored"] <= 1 and 0 <= row["paid_share"] <= 1
        assert 0 < row["batch_ess"] <= 1 and row["return"] in (0.0, 2.0)


def test_paid_share_is_the_sampling_mass_of_the_paid_transitions_by_hand():
    from types import SimpleNamespace

    from gymnasium import spaces

    from benchmarks.per_priorities import priority_row
    from sb3_marl.buffers import PrioritizedReplayBuffer

    box, discrete = spaces.Box(0, 1, (1,)), spaces.Discrete(2)
    buffer = PrioritizedReplayBuffer(8, box, discrete, "cpu", n_envs=2, alpha=1.0)
    for reward in ([0.0, 1.0], [0.0, 0.0]):  # leaves 0 and 1, then 2 and 3; leaf 1 is paid
        zeros = np.zeros((2, 1), np.float32)
        buffer.add(zeros, zeros, np.zeros((2, 1)), np.array(reward), np.array([False, True]), [{}, {}])
    buffer.update_priorities(np.arange(4), np.array([1.0, 4.0, 2.0, 3.0]))
    row = priority_row(SimpleNamespace(replay_buffer=buffer, batch_size=4, beta=0.4))
    # With alpha 1 the mass is the priorities: the paid leaf holds 4 of 10, a quarter of the transitions.
    assert row["paid_share"] == 0.4 and row["paid_stored"] == 0.25
