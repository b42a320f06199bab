"""MADQN's logger tables: one per ``log_interval`` team episodes on a multi-agent VecEnv, with the team
return; SB3's per-episode tables on any other VecEnv."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env

from sb3_marl.envs import make_vec_env
from sb3_marl.madqn import MADQN

SMALL = dict(learning_starts=30, buffer_size=1_000, batch_size=16, policy_kwargs=dict(net_arch=[16]))
MAX_CYCLES = 8


class TeamEpisodes(BaseCallback):
    """Records, per step, the team episodes the monitor reported (one per copy) and how many slots ended."""

    def __init__(self, n_agents: int) -> None:
        super().__init__()
        self.n_agents = n_agents
        self.steps: list[list[dict[str, Any]]] = []
        self.slot_episodes = 0

    def _on_step(self) -> bool:
        copies = self.locals["infos"][:: self.n_agents]
        self.steps.append([info["team_episode"] for info in copies if "team_episode" in info])
        self.slot_episodes += int(np.sum(self.locals["dones"]))
        return True


def tables(text: str) -> list[dict[str, float]]:
    """The numeric rows of each SB3 table printed to stdout (one table per ``total_timesteps`` row)."""
    found: list[dict[str, float]] = []
    for line in text.splitlines():
        row = re.match(r"\|\s+(\w+)\s+\|\s+(-?[\d.e+-]+)\s+\|", line)
        if row is None:
            continue
        if row[1] == "ep_len_mean":
            found.append({})
        if found:
            found[-1][row[1]] = float(row[2])
    return found


def spread_run(capsys: pytest.CaptureFixture[str], n_copies: int, log_interval: int, steps: int) -> Any:
    env_kwargs = dict(max_cycles=MAX_CYCLES)
    env = make_vec_env("mpe2.simple_spread_v3", n_envs=n_copies, seed=0, env_kwargs=env_kwargs)
    model = MADQN("MlpPolicy", env, verbose=1, seed=0, **SMALL)  # type: ignore[arg-type]
    callback = TeamEpisodes(env.num_agents)  # type: ignore[attr-defined]
    capsys.readouterr()
    model.learn(steps, callback=callback, log_interval=log_interval)
    return model, callback, tables(capsys.readouterr().out)


@pytest.mark.parametrize("n_copies", [1, 2])
def test_one_table_per_team_episode_step_with_the_team_return(capsys, n_copies):
    steps = 3 * n_copies * MAX_CYCLES * 4  # four episodes of each copy
    model, callback, printed = spread_run(capsys, n_copies, log_interval=1, steps=steps)
    batches = [episodes for episodes in callback.steps if episodes]
    assert len(batches) == 4 and all(len(episodes) == n_copies for episodes in batches)
    assert callback.slot_episodes == 4 * 3 * n_copies  # SB3 would have dumped this many tables
    assert len(printed) == len(batches)  # copies ending together: one table, not one per slot or copy
    team_returns: list[float] = []
    for table, episodes in zip(printed, batches, strict=True):
        team_returns += [episode["r"] for episode in episodes]
        agent_sums = [sum(episode["agent_returns"].values()) for episode in episodes]
        assert [episode["r"] for episode in episodes] == pytest.approx(agent_sums)
        assert table["ep_rew_mean"] == pytest.approx(np.mean(team_returns), rel=5e-3)  # printed to 3 digits
        assert table["ep_len_mean"] == MAX_CYCLES
        assert table["team_episodes"] == len(team_returns)
    assert [ep["r"] for ep in model.ep_info_buffer] == team_returns


def test_log_interval_counts_team_episodes(capsys):
    _, callback, printed = spread_run(capsys, n_copies=1, log_interval=2, steps=3 * MAX_CYCLES * 5)
    assert sum(len(episodes) for episodes in callback.steps) == 5
    assert [table["team_episodes"] for table in printed] == [2, 4]


def test_plain_vec_env_logs_as_sb3(capsys):
    """On CartPole, every episode's end dumps a table and ep_rew_mean is the Monitor's."""

    class Episodes(BaseCallback):
        returns: list[float] = []

        def _on_step(self) -> bool:
            self.returns += [info["episode"]["r"] for info in self.locals["infos"] if "episode" in info]
            return True

    env = sb3_make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = MADQN("MlpPolicy", env, verbose=1, seed=0, **SMALL)  # type: ignore[arg-type]
    callback = Episodes()
    capsys.readouterr()
    model.learn(300, callback=callback, log_interval=1)
    printed = tables(capsys.readouterr().out)
    assert len(printed) == len(callback.returns) > 2
    assert printed[-1]["ep_rew_mean"] == pytest.approx(np.mean(callback.returns), rel=5e-3)
    assert printed[-1]["episodes"] == len(callback.returns)
    assert all("team_episodes" not in table for table in printed)


def test_log_interval_below_one_is_refused():
    model = MADQN("MlpPolicy", "CartPole-v1", **SMALL)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log_interval must be a positive number of episodes, got 0"):
        model.learn(10, log_interval=0)
