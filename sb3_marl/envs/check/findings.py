"""The analyses of what random play recorded: spaces, observations, masks, rewards (their scale, and
whether agents cooperate or oppose), episodes and time limits, deaths, and speed."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from sb3_marl.envs.check.probe import Death, Probe, join_names
from sb3_marl.envs.spaces import build_slot_spaces

LARGE_REWARD = 10.0  # a typical |reward| above this suggests scaling
SLOW_STEPS_PER_SECOND = 100.0
_TIME_LIMIT_FIX = "Report a time limit as truncations=True, terminations=False."
_FIXES = {
    "obs-shape": "Return observations of the shape of observation_space(agent).",
    "obs-outside-space": "Return observations inside observation_space(agent), or widen the space.",
    "obs-non-finite": "Mend the env or clip its observations (NaN/inf poison the network).",
    "obs-dtype": "Return arrays of the space's dtype (e.g. obs.astype(space.dtype)).",
    "obs-missing": "Return an observation for every agent in env.agents.",
    "reward-non-finite": "Mend the env or clip its rewards (NaN/inf poison the value targets).",
    "reward-not-number": "Return one float reward per agent.",
    "unknown-agent": "Only agents in possible_agents may appear.",
    "mask-length": "Give a mask of one entry per action (the VecEnv would read only the first n, or fail).",
    "mask-all-false": "Leave at least one legal action for every agent that acts (or end its episode).",
    "mask-missing": "Give 'action_mask' at every step for every agent that acts.",
    "done-agent-stays": "Remove agents that are done from env.agents (PettingZoo's API; AEC: in step(None)).",
    "left-without-done": "Set terminations or truncations True for an agent at the step it leaves.",
}


def check_spaces(probe: Probe) -> None:
    """Whether the VecEnv can give the agents one slot space, whether their spaces differ, float64."""
    obs, act = probe.obs_spaces, probe.act_spaces
    try:
        slots = build_slot_spaces(probe.agents, list(obs.values()), list(act.values()), probe.agent_indicator)
    except ValueError as error:
        probe.add(
            "error", "spaces-unsupported", f"The VecEnv cannot give these agents one slot space: {error}"
        )
        return
    differ = [
        f"{what} spaces differ ({'; '.join(f'{join_names(names)}: {s}' for s, names in groups.items())})"
        for what, space_of in (("observation", obs), ("action", act))
        if len(groups := _group_by_space(space_of)) > 1
    ]
    differ_text = f"Agents' {' and their '.join(differ)}"
    if differ and not probe.agent_indicator:
        probe.add(
            "warning",
            "spaces-differ",
            f"{differ_text}. The VecEnv pads them to one slot space "
            f"(observation {slots.observation_space}, action {slots.action_space}, padded actions "
            "masked), and one shared policy cannot tell which agent, or which kind of agent, it plays.",
            "Append a one-hot agent id: make_vec_env(..., agent_indicator=True).",
            probe.agents,
        )
    elif differ:
        probe.add("info", "spaces-differ", f"{differ_text}; padded, with an agent indicator.")
    float64 = [a for a in probe.agents if probe.raw_space(a).dtype == np.float64]
    if float64:
        probe.add(
            "warning",
            "float64-observations",
            f"Observations are float64 ({join_names(float64)}: {probe.raw_space(float64[0])}): SB3's "
            "buffers store them at 8 bytes a value, twice float32's, and the policy casts them to "
            "float32 anyway.",
            "Cast them to float32 with a wrapper: wrapper_class=lambda env: supersuit.dtype_v0(env, "
            "np.float32) (in a preset: env_wrapper).",
            float64,
        )


def _group_by_space(space_of: dict[str, spaces.Space]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for agent, space in space_of.items():
        groups.setdefault(str(space), []).append(agent)
    return groups


def summarize(probe: Probe) -> None:
    """The findings of random play: each problem noted (once, with its count), then the analyses."""
    for code, n in probe.notes.items():
        if code == "mask-missing" and probe.masks_given == 0:  # an env without masks: said once below
            continue
        times = f" ({n.count} times in all)" if n.count > 1 else ""
        first = f"Agent {n.first}" if n.agents else n.first[0].upper() + n.first[1:]  # n.first names it
        probe.add(n.level, code, f"{first}{times}.", _FIXES.get(code, ""), n.agents)
    if probe.steps == 0:
        return
    _observations(probe)
    _masks(probe)
    _rewards(probe)
    _episodes(probe)
    _speed(probe)


def _observations(probe: Probe) -> None:
    if not any(code.startswith("obs-") for code in probe.notes):
        probe.add(
            "info",
            "observations-ok",
            f"All {probe.obs_seen} observations were inside their declared spaces and finite; dtypes: "
            f"{', '.join(sorted(set().union(*probe.obs_dtypes.values())))}.",
        )


def _masks(probe: Probe) -> None:
    if not any(isinstance(s, spaces.Discrete) for s in probe.act_spaces.values()) or not probe.mask_turns:
        return
    if probe.masks_given == 0:
        probe.add(
            "info",
            "no-masks",
            "The env gives no action masks (no 'action_mask' in observations or infos): every action "
            "is always legal.",
        )
    elif not any(code.startswith("mask-") for code in probe.notes):
        probe.add(
            "info",
            "masks",
            f"Action masks come in the env's {probe.mask_source}, given at all {probe.mask_turns} turns "
            "an agent acted, each with a legal action and of the right length.",
        )


def _sign(r: np.ndarray) -> str:
    if not r.any():
        return "all 0"
    if r.max() <= 0:
        return "all ≤ 0"
    return "all ≥ 0" if r.min() >= 0 else "both signs"


def _rewards(probe: Probe) -> None:
    rows = np.array(probe.reward_rows)
    if rows.size == 0:
        return
    described, large = [], []
    for k, agent in enumerate(probe.agents):
        r = rows[:, k][~np.isnan(rows[:, k])]
        if r.size == 0:
            continue
        nonzero = r[r != 0]
        described.append(f"{agent} [{r.min():.3g}, {r.max():.3g}], mean {r.mean():.3g} ({_sign(r)})")
        typical = float(np.abs(nonzero).mean()) if nonzero.size else 0.0
        if typical > LARGE_REWARD:
            large.append((agent, typical, float(r.min()), float(r.max())))
    if not np.nan_to_num(rows).any():
        probe.add(
            "warning",
            "rewards-all-zero",
            f"No agent got a nonzero reward in {probe.steps} steps of random play: a sparse reward that "
            "random exploration may not find.",
            "Check the reward, or shape it; explore longer (e.g. a slower epsilon decay).",
        )
    shown = join_names(described, "; ", "; and")
    costs = " Rewards that are all ≤ 0 (costs) are fine." if any("all ≤ 0" in d for d in described) else ""
    probe.add("info", "rewards", f"Rewards per {probe.reward_unit} under random play: {shown}.{costs}")
    if large:
        agent, typical, low, high = max(large, key=lambda x: x[1])
        probe.add(
            "warning",
            "reward-scale",
            f"Large rewards: {agent}'s typical nonzero |reward| is {typical:.3g} (range [{low:.3g}, "
            f"{high:.3g}]); {len(large)} agent(s) above {LARGE_REWARD:g}. Q-value targets and "
            "gradients grow with them.",
            "Scale rewards to about [-1, 1], e.g. wrapper_class=lambda env: "
            f"supersuit.reward_lambda_v0(env, lambda r: r / {typical:.3g}).",
            [a[0] for a in large],
        )
    _reward_relations(probe, rows)


def _reward_relations(probe: Probe, rows: np.ndarray) -> None:
    n_agents = len(probe.agents)
    if n_agents < 2:
        return
    both = ~np.isnan(rows)
    together = both.sum(axis=1) >= 2
    values = np.nan_to_num(rows[together])
    magnitude = float(np.abs(values).sum())
    if magnitude > 0 and float(np.abs(values.sum(axis=1)).sum()) <= 0.05 * magnitude:
        probe.add(
            "warning",
            "zero-sum-rewards",
            f"Rewards sum to (about) zero in every {probe.reward_unit} (of {len(values)}): a zero-sum "
            "game, where one agent gains what another loses. The summed team return is always about 0 "
            "and says nothing, and one shared policy plays every side (self-play).",
            "Judge training by per-agent returns or by wins against a fixed opponent (e.g. random "
            "play), not by the team return; do not use value mixers (VDN/QMIX) here.",
            probe.agents,
        )
        return
    corr = np.full((n_agents, n_agents), np.nan)
    counts = np.zeros((n_agents, n_agents), dtype=int)
    for i in range(n_agents):
        for j in range(i + 1, n_agents):
            mask = both[:, i] & both[:, j]
            x, y = rows[mask, i], rows[mask, j]
            if mask.sum() >= 10 and x.std() > 0 and y.std() > 0:
                corr[i, j] = corr[j, i] = float(np.corrcoef(x, y)[0, 1])
                counts[i, j] = counts[j, i] = int(mask.sum())
    significant = np.nan_to_num(np.abs(corr) * np.sqrt(counts)) >= 3
    sides = list(range(n_agents))  # union-find: agents whose rewards move together are one side

    def side(i: int) -> int:
        while sides[i] != i:
            i = sides[i]
        return i

    for a, b in zip(*np.nonzero(significant & (np.nan_to_num(corr) > 0.5)), strict=True):
        sides[side(int(a))] = side(int(b))
    opposed = significant & (np.nan_to_num(corr) < -0.1)
    if opposed.any():
        worst = np.unravel_index(np.argmin(np.where(opposed, corr, np.inf)), corr.shape)
        a_side = [a for k, a in enumerate(probe.agents) if side(k) == side(int(worst[0]))]
        against = opposed[[probe.index[a] for a in a_side]].any(axis=0)
        b_side = [a for k, a in enumerate(probe.agents) if against[k]]
        n_pairs = int(opposed.sum()) // 2
        probe.add(
            "warning",
            "opposed-rewards",
            f"Rewards move against each other: {join_names(a_side)} vs {join_names(b_side)} (correlation of "
            f"their rewards per {probe.reward_unit} {corr[worst]:.2f}, over {counts[worst]}; {n_pairs} "
            "opposed pair(s) of agents): a mixed or adversarial game. One shared policy plays both "
            "sides, and a summed team return (the team statistics, VDN/QMIX mixers) adds up opposed "
            "goals and misleads.",
            "Read per-agent returns, not the team return; use value mixers only within a cooperative "
            "team; consider a model per side.",
            sorted({*a_side, *b_side}, key=probe.index.__getitem__),
        )
        return
    full = rows[~np.isnan(rows).any(axis=1)]
    pairs: np.ndarray = corr[np.triu_indices(n_agents, 1)]
    if full.size and np.allclose(full, full[:, :1]) and np.abs(full).sum() > 0:
        what = (
            f"every agent gets the same reward in every {probe.reward_unit} (a team reward; a summed "
            f"team return counts it {n_agents} times)"
        )
    elif np.isfinite(pairs).all() and (pairs > 0.5).all():
        what = f"agents' rewards per {probe.reward_unit} move together (lowest correlation {pairs.min():.2f})"
    else:
        return
    probe.add("info", "cooperative-rewards", f"A cooperative game: {what}.")


def _episodes(probe: Probe) -> None:
    ended = [e for e in probe.episodes if e.ended]
    if not ended and probe.stopped_by != "error":
        probe.add(
            "warning",
            "no-episode-ended",
            f"No episode ended within the bound ({probe.steps} steps, stopped by {probe.stopped_by}): "
            "time limits, deaths and returns are unchecked.",
            "Raise max_steps / max_seconds (sb3-marl check --steps, --seconds).",
        )
    if not ended:
        return
    lengths = [e.length for e in ended]
    by_kind = {k: sum(k in e.end_kinds for e in ended) for k in ("terminated", "truncated")}
    spread = (
        f"{lengths[0]}"
        if len(set(lengths)) == 1
        else f"{min(lengths)}-{max(lengths)} (mean {np.mean(lengths):.1f})"
    )
    probe.add(
        "info",
        "episodes",
        f"{len(ended)} episodes ended after {spread} steps: {by_kind['terminated']} by termination, "
        f"{by_kind['truncated']} by truncation.",
    )
    if all(n == 1 for n in lengths) and len(ended) > 1:
        probe.add(
            "warning",
            "one-step-episodes",
            f"Every episode ({len(ended)}) ended after its first step.",
            "If that is not meant, check that step does not mark every agent done at once.",
        )
    max_cycles = getattr(getattr(probe.env, "unwrapped", probe.env), "max_cycles", None)
    if isinstance(max_cycles, int):
        at_limit = [e for e in ended if e.cycles == max_cycles]
        as_term = [e for e in at_limit if e.end_kinds == {"terminated"}]
        if as_term:
            probe.add(
                "warning",
                "time-limit-as-termination",
                f"{len(as_term)} of {len(ended)} episodes ended at max_cycles={max_cycles} with "
                "terminations, not truncations: SB3 (TimeLimit.truncated) then treats the last state "
                "as terminal and learns that time running out ends the game.",
                _TIME_LIMIT_FIX,
            )
        elif at_limit:
            probe.add(
                "info",
                "time-limit-truncation",
                f"Episodes that reach max_cycles={max_cycles} end with truncations, as they should: "
                "value targets bootstrap past them.",
            )
    elif (
        len(ended) >= 3
        and len(set(lengths)) == 1
        and lengths[0] > 1
        and all(e.end_kinds == {"terminated"} for e in ended)
    ):
        probe.add(
            "warning",
            "time-limit-as-termination",
            f"Every episode ({len(ended)}) ended after exactly {lengths[0]} steps by termination: if "
            "that is a time limit, SB3 treats its last state as terminal.",
            _TIME_LIMIT_FIX,
        )
    _deaths(probe, len(ended))


def _deaths(probe: Probe, n_ended: int) -> None:
    if not probe.deaths:
        probe.add("info", "no-deaths", f"No agent left before its episode ended ({n_ended} episodes).")
        return
    agents = _agents_of(probe.deaths)
    kinds = ", ".join(sorted({d.kind for d in probe.deaths}))
    first = probe.deaths[0]
    without = [d for d in probe.deaths if not d.last_obs]
    n = len(probe.deaths)
    back = (
        f"{n - len(without)} of {n} times their last observation came back"
        if without
        else ("their last observation comes back")
    )
    probe.add(
        "info",
        "agents-die",
        f"Agents leave before their episode ends ({kinds}): {n} times ({join_names(agents)}; "
        f"first {first.agent} at {first.where}); {back}. The VecEnv passes it on as "
        "terminal_observation and keeps the slot inactive (info['inactive']) until its env copy "
        "resets.",
        agents=agents,
    )
    if without:
        d = without[0]
        probe.add(
            "warning",
            "death-no-last-obs",
            f"{len(without)} times an agent's last observation did not come back at the step it left "
            f"(first {d.agent} at {d.where}): the VecEnv then uses its observation from the step "
            "before as terminal_observation.",
            "Return the observation of every agent that is done, at the step it is done.",
            _agents_of(without),
        )


def _agents_of(deaths: list[Death]) -> list[str]:
    return list(dict.fromkeys(d.agent for d in deaths))


def _speed(probe: Probe) -> None:
    if probe.step_seconds <= 0:
        return
    rate = probe.steps / probe.step_seconds
    probe.add(
        "info",
        "speed",
        f"{rate:,.0f} env steps per second ({rate * len(probe.agents):,.0f} agent steps) in step calls "
        "of random play, in this process.",
    )
    if rate < SLOW_STEPS_PER_SECOND and probe.steps >= 20:
        probe.add(
            "warning",
            "slow-env",
            f"The env makes only {rate:.0f} steps per second: 1M steps take {1e6 / rate / 3600:.1f} h "
            "of env time alone.",
            "Run several env copies in subprocesses: make_vec_env(..., n_envs=8, subprocess=True).",
        )
