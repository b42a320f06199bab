"""The terminal a newcomer reads: table rows with the team and agent returns (counted in team
episodes), the exploration rate and the loss, and a progress bar only on a terminal."""

from __future__ import annotations

import io
import itertools

import pytest
from envs_for_tests import DeathEnv
from stable_baselines3 import PPO

from sb3_marl.envs import make_vec_env
from sb3_marl.madqn import MADQN
from sb3_marl.terminal import TerminalLogCallback

SPREAD = "mpe2.simple_spread_v3"
# DeathEnv's 3 agents get 10 k + t at steps t = 1..5: returns 15, 65 and 115, team return 195
RETURNS = ["15.0", "65.0", "115.0"]


class Stream(io.StringIO):
    """A text stream that says whether it is a terminal."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def rows(text: str) -> list[list[str]]:
    """The table rows (after the explanation line and the header), split into cells."""
    return [line.split() for line in text.splitlines()[2:]]


def madqn(n_envs: int = 2, env: object = DeathEnv) -> MADQN:
    venv = make_vec_env(env, n_envs=n_envs, seed=0)
    return MADQN("MlpPolicy", venv, learning_starts=60, batch_size=16, seed=0)


def test_rows_every_log_interval_team_episodes():
    """2 copies of 3 slots end together every 5 steps: 6 slot episodes but 2 team episodes."""
    out, bar = Stream(tty=False), Stream(tty=False)
    model = madqn()
    model.learn(240, callback=TerminalLogCallback(log_interval=4, stream=out, bar_stream=bar))
    lines = out.getvalue().splitlines()
    assert lines[0] == "Team return: summed over agents; returns are means of the last 100 team episodes."
    header = ["timesteps", "episodes", "team", "return", "a0", "a1", "a2", "exploration", "loss", "time"]
    assert lines[1].split() == header
    table = rows(out.getvalue())
    assert [row[:2] for row in table] == [["60", "4"], ["120", "8"], ["180", "12"], ["240", "16"]]
    assert all(row[2:6] == ["195.0", *RETURNS] for row in table)
    assert [row[6] for row in table] == [f"{model.exploration_rate:.3f}"] * 4  # annealed within 30 steps
    assert table[0][7] == "-" and all(float(row[7]) >= 0 for row in table[1:])  # no loss before learning
    assert bar.getvalue() == "" and "\r" not in out.getvalue()


def test_timed_rows_are_few_and_the_last_row_is_the_end():
    out = Stream(tty=False)
    model = madqn()
    model.learn(600, callback=TerminalLogCallback(interval_s=0, max_lines=4, stream=out, bar_stream=out))
    table = rows(out.getvalue())
    steps = [int(row[0].replace(",", "")) for row in table]
    assert len(table) <= 5 and steps[-1] == 600 and table[-1][1] == "40"
    assert all(b - a >= 600 / 4 for a, b in itertools.pairwise(steps))


@pytest.mark.parametrize(
    ("tty", "progress_bar", "shown"),
    [(True, None, True), (False, None, False), (True, False, False), (False, True, True)],
)
def test_the_bar_is_shown_on_a_terminal(tty, progress_bar, shown):
    out, bar = Stream(tty=False), Stream(tty=tty)
    model = madqn(n_envs=1)
    callback = TerminalLogCallback(log_interval=2, progress_bar=progress_bar, stream=out, bar_stream=bar)
    model.learn(60, callback=callback)
    assert ("training:" in bar.getvalue() and "/60 [" in bar.getvalue()) is shown
    assert bar.getvalue() == "" or shown
    # the rows are the same either way: 4 team episodes of 15 timesteps, a row every 2
    assert [row[:2] for row in rows(out.getvalue())] == [["30", "2"], ["60", "4"]]


def test_simple_spread_off_a_terminal_prints_a_few_lines_with_the_team_return():
    out = Stream(tty=False)
    venv = make_vec_env(SPREAD, n_envs=2, seed=0, env_kwargs={"max_cycles": 10})
    model = PPO("MlpPolicy", venv, n_steps=20, batch_size=60, n_epochs=1, seed=0)
    model.learn(600, callback=TerminalLogCallback(interval_s=60, stream=out, bar_stream=out))
    lines = out.getvalue().splitlines()
    header = ["timesteps", "episodes", "team", "return", "agent_0", "agent_1", "agent_2", "loss", "time"]
    assert lines[1].split() == header  # no exploration rate for PPO
    ((steps, episodes, team, *agents, loss, _),) = rows(out.getvalue())  # one row, at the end
    assert steps == "600" and episodes == "20"  # 2 copies, 100 steps, episodes of 10
    assert float(team) == pytest.approx(sum(float(a) for a in agents), abs=0.2) and float(team) < 0
    assert loss != "-"  # PPO trained


def test_bad_arguments():
    with pytest.raises(ValueError, match="log_interval counts team episodes and must be at least 1, got 0"):
        TerminalLogCallback(log_interval=0)
    with pytest.raises(ValueError, match=r"max_lines at least 1, got 10\.0 and 0"):
        TerminalLogCallback(max_lines=0)
