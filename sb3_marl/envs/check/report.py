"""What ``check_env`` hands back: findings, each with its fix, and the report as text or JSON."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Level = Literal["error", "warning", "info"]
LEVELS: tuple[Level, ...] = ("error", "warning", "info")


@dataclass
class Finding:
    """One thing ``check_env`` found.

    :param level: ``"error"`` (training will fail or be wrong), ``"warning"`` (likely to mislead or
        slow training) or ``"info"`` (what the env does)
    :param code: a stable identifier, e.g. ``"float64-observations"``
    :param message: what was found, with an example
    :param fix: what to do about it ("" for most infos)
    :param agents: the agents it concerns
    """

    level: Level
    code: str
    message: str
    fix: str = ""
    agents: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    """What ``check_env`` found out about an env.

    :param env_id: the env as given (module path, or the callable's name)
    :param name: the env's ``metadata["name"]`` (``env_id`` when it has none)
    :param api: ``"parallel"``, ``"aec"``, or None when the env could not be made
    :param agents: its ``possible_agents``
    :param steps: env steps of random play (AEC: calls of ``step``)
    :param episodes: episodes that ended within the bound
    :param seconds: how long the check took
    :param steps_per_second: env steps per second of ``step`` calls (None if none was timed)
    :param stopped_by: the bound that ended random play (``"max_steps"``, ``"max_episodes"``,
        ``"max_seconds"``) or ``"error"``
    :param findings: errors first, then warnings, then infos
    """

    env_id: str
    name: str
    api: str | None
    agents: list[str]
    steps: int
    episodes: int
    seconds: float
    steps_per_second: float | None
    stopped_by: str
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """False when any finding is an error."""
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def codes(self) -> list[str]:
        """The findings' codes, in order."""
        return [f.code for f in self.findings]

    def get(self, code: str) -> Finding | None:
        """The finding with this code, or None."""
        return next((f for f in self.findings if f.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_text(self, width: int = 100) -> str:
        api = {"parallel": "parallel API", "aec": "AEC (turn-based) API", None: "not made"}[self.api]
        lines = [
            f"Check of {self.env_id} ({self.name}): {api}, {len(self.agents)} agents",
            f"Random play: {self.steps} steps, {self.episodes} whole episodes, stopped by "
            f"{self.stopped_by}; {self.seconds:.1f} s in all.",
        ]
        for f in self.findings:
            lines += textwrap.wrap(
                f.message, width, initial_indent=f"{f.level.upper():8}{f.code}: ", subsequent_indent=" " * 8
            )
            if f.fix:
                lines += textwrap.wrap(
                    f.fix, width, initial_indent=" " * 8 + "fix: ", subsequent_indent=" " * 13
                )
        n_err, n_warn = len(self.errors), len(self.warnings)
        verdict = "FAILED" if n_err else "OK"
        lines.append(f"{verdict}: {n_err} error(s), {n_warn} warning(s).")
        return "\n".join(lines)
