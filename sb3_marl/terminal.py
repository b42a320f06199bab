"""Training as a newcomer reads it: a progress bar on a terminal and, now and then, one line of a table
with the team return, the returns of each agent, the exploration rate and the loss."""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import Any, TextIO

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from tqdm import tqdm

from sb3_marl.evaluation import unwrap_multi_agent


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


class TerminalLogCallback(BaseCallback):
    """Shows training on a terminal: a progress bar over timesteps (on ``bar_stream``, when it is a
    terminal) and one table row on ``stream`` every ``interval_s`` seconds, or every ``log_interval``
    team episodes, and at the end. Off a terminal (CI, a log file) the rows come without the bar.

    A row holds the timesteps, the team (copy) episodes so far, the team return (summed over agents)
    and each agent's return, both the mean of the last ``stats_window_size`` team episodes, the
    exploration rate (for models that have one), the last training loss (``train/loss`` in the SB3
    logger) and the time since training started (minutes:seconds). Timed rows also wait for
    ``1 / max_lines`` of the training's timesteps, so that a long run prints about ``max_lines`` rows.

    Train with ``verbose=0`` beside it: SB3's own logger tables count every agent slot's episode and
    show one agent's return.

    :param log_interval: a row every this many team episodes (None: every ``interval_s`` seconds)
    :param interval_s: the least number of seconds between timed rows
    :param max_lines: about the most timed rows in one ``learn()``
    :param progress_bar: whether to show the bar (None: when ``bar_stream`` is a terminal)
    :param stream: where the rows go (default: standard output)
    :param bar_stream: where the bar goes (default: standard error)
    :param stats_window_size: number of team episodes averaged (default: the model's)
    :param verbose: verbosity level
    """

    def __init__(
        self,
        log_interval: int | None = None,
        interval_s: float = 10.0,
        max_lines: int = 25,
        progress_bar: bool | None = None,
        stream: TextIO | None = None,
        bar_stream: TextIO | None = None,
        stats_window_size: int | None = None,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        if log_interval is not None and log_interval < 1:
            raise ValueError(f"log_interval counts team episodes and must be at least 1, got {log_interval}.")
        if interval_s < 0 or max_lines < 1:
            raise ValueError(
                f"interval_s must be >= 0 and max_lines at least 1, got {interval_s} and {max_lines}."
            )
        self.log_interval = log_interval
        self.interval_s = interval_s
        self.max_lines = max_lines
        self.progress_bar = progress_bar
        self.stream = stream
        self.bar_stream = bar_stream
        self.stats_window_size = stats_window_size
        self.team_episodes = 0
        self._out: TextIO = sys.stdout
        self._bar: tqdm | None = None

    def _init_callback(self) -> None:
        assert self.training_env is not None
        env = unwrap_multi_agent(self.training_env)
        self.agents = list(env.possible_agents)
        self.num_agents = env.num_agents
        window = self.stats_window_size or getattr(self.model, "_stats_window_size", 100)
        self.team_returns: deque[float] = deque(maxlen=window)
        self.agent_returns: deque[dict[str, float]] = deque(maxlen=window)
        self.loss: float | None = None
        self._has_exploration = hasattr(self.model, "exploration_rate")
        columns = [("timesteps", 11), ("episodes", 10), ("team return", 13)]
        columns += [(agent, max(len(agent) + 2, 9)) for agent in self.agents]
        columns += [("exploration", 13)] if self._has_exploration else []
        columns += [("loss", 10), ("time", 7)]
        self._widths = [width for _, width in columns]
        self._header = "".join(name.rjust(width) for name, width in columns)

    def _on_training_start(self) -> None:
        self._out = self.stream or sys.stdout
        bar_stream = self.bar_stream or sys.stderr
        show_bar = bar_stream.isatty() if self.progress_bar is None else self.progress_bar
        total = self.locals["total_timesteps"] - self.model.num_timesteps
        self._total = max(int(total), 1)
        self._start_time = self._last_time = time.monotonic()
        self._last_timesteps = self.model.num_timesteps
        self._last_episodes = self.team_episodes
        window = self.team_returns.maxlen
        self._write(f"Team return: summed over agents; returns are means of the last {window} team episodes.")
        self._write(self._header)
        if show_bar:
            self._bar = tqdm(
                total=self._total,
                desc="training",
                unit="step",
                file=bar_stream,
                dynamic_ncols=True,
                leave=False,
            )

    def _on_step(self) -> bool:
        infos: list[dict[str, Any]] = self.locals["infos"]
        for info in infos[:: self.num_agents]:
            if "team_episode" in info:
                self.team_episodes += 1
                self.team_returns.append(float(info["team_episode"]["r"]))
                self.agent_returns.append(info["team_episode"]["agent_returns"])
        self._read_loss()
        if self._bar is not None:
            self._bar.update(self.training_env.num_envs)
        if self._row_due():
            self._row()
        return True

    def _row_due(self) -> bool:
        if self.log_interval is not None:
            return self.team_episodes // self.log_interval > self._last_episodes // self.log_interval
        now, steps = time.monotonic(), self.model.num_timesteps - self._last_timesteps
        return now - self._last_time >= self.interval_s and steps * self.max_lines >= self._total

    def _read_loss(self) -> None:
        """Keep the last loss: the logger forgets it at its next dump."""
        loss = self.model.logger.name_to_value.get("train/loss")
        if loss is not None:
            self.loss = float(loss)

    def _on_training_end(self) -> None:
        self._read_loss()
        if self.model.num_timesteps > self._last_timesteps:
            self._row()
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _row(self) -> None:
        self._last_time, self._last_timesteps = time.monotonic(), self.model.num_timesteps
        self._last_episodes = self.team_episodes
        team = float(np.mean(self.team_returns)) if self.team_returns else None
        agents = [
            float(np.mean([r[agent] for r in self.agent_returns])) if self.agent_returns else None
            for agent in self.agents
        ]
        cells = [f"{self.model.num_timesteps:,}", f"{self.team_episodes:,}", _number(team, ".1f")]
        cells += [_number(r, ".1f") for r in agents]
        if self._has_exploration:
            cells.append(_number(float(self.model.exploration_rate), ".3f"))  # type: ignore[attr-defined]
        minutes, seconds = divmod(int(self._last_time - self._start_time), 60)
        cells += [_number(self.loss, ".4g"), f"{minutes}:{seconds:02d}"]
        self._write("".join(c.rjust(w) for c, w in zip(cells, self._widths, strict=True)))

    def _write(self, line: str) -> None:
        """Write a line above the bar, if there is one."""
        tqdm.write(line, file=self._out)
        self._out.flush()
