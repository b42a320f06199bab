"""After random play: episode 0 replayed in a new env (determinism under a seed), and a few steps of the
``MultiAgentVecEnv`` made from the env."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pettingzoo.utils.env import AECEnv

from sb3_marl.envs.check.guard import EnvFault, closing
from sb3_marl.envs.check.play import aec_frame, reset_frame, step_frame
from sb3_marl.envs.check.probe import Probe
from sb3_marl.envs.check.report import Finding
from sb3_marl.envs.vec_env import MultiAgentVecEnv

VEC_ENV_STEPS = 50  # steps of the MultiAgentVecEnv made from the env


def check_determinism(probe: Probe) -> None:
    """Replay episode 0 in a new env: the same seed and actions must give the same."""
    if not probe.first_frames or time.monotonic() >= probe.deadline:
        return
    env = probe.make_env("a second env's constructor")
    with closing(env):
        try:
            found = _replay(probe, env)
        except Exception as error:
            raise EnvFault.raised(probe.current, error) from error
    if found is not None:
        probe.findings.append(found)


def _reset(env: Any, seed: int) -> dict[str, Any]:
    if isinstance(env, AECEnv):
        env.reset(seed=seed)
        return aec_frame(env)
    return reset_frame(env.reset(seed=seed)[0])


def _step(env: Any, action: Any) -> dict[str, Any]:
    if isinstance(env, AECEnv):
        env.step(action)
        return aec_frame(env)
    result = env.step(action)
    return step_frame(result, list(env.agents))


def _replay(probe: Probe, env: Any) -> Finding | None:
    """The first difference from episode 0 in ``env``, the finding that there is none, or None when the
    time ran out."""
    seed, recorded = probe.seed, probe.first_frames
    probe.current = "the second env's reset"
    if _reset(env, seed) != recorded[0]:
        return Finding(
            "warning",
            "reset-not-deterministic",
            f"reset(seed={seed}) of two new envs gave different first observations: runs cannot be "
            "reproduced, and evaluations under a seed differ.",
            "Draw all of the env's randomness from a generator seeded in reset (e.g. "
            "gymnasium.utils.seeding.np_random(seed)), not from global or unseeded ones.",
        )
    n = 0
    for n, action in enumerate(probe.first_actions, start=1):
        if time.monotonic() >= probe.deadline:
            return None
        probe.current = f"the second env's step {n - 1}"
        frame = _step(env, action)
        part = next((part for part in frame if frame[part] != recorded[n].get(part)), None)
        if part is not None:
            return Finding(
                "warning",
                "trajectory-not-deterministic",
                f"Under reset(seed={seed}) and the same actions, a new env gave other {part} at step "
                f"{n - 1}: runs cannot be reproduced.",
                "Draw all of the env's randomness (also in step) from a generator seeded in reset.",
            )
    probe.current = "the second env's second reset"
    if _reset(env, seed) != recorded[0]:
        return Finding(
            "warning",
            "reset-not-deterministic",
            f"A second reset(seed={seed}) of the same env gave other first observations than the first: "
            "the env does not reseed in reset.",
            "Reseed the env's generators in every reset that is given a seed.",
        )
    return Finding(
        "info",
        "deterministic",
        f"reset(seed={seed}) gives the same first observations (in a new env and again in the same env), "
        f"and the same actions the same {n} steps.",
    )


def check_vec_env(probe: Probe) -> None:
    """Make a ``MultiAgentVecEnv`` of one env copy and step it with random legal actions."""
    if time.monotonic() >= probe.deadline:
        return
    probe.current = "the MultiAgentVecEnv"
    stage = "Making"
    try:
        venv = MultiAgentVecEnv([probe.build], agent_indicator=probe.agent_indicator)
        stage = "Stepping"
        with closing(venv):
            stepped = _step_vec_env(probe, venv, min(VEC_ENV_STEPS, probe.max_steps))
    except Exception as error:
        probe.add(
            "error", "vec-env-failed", f"{stage} the MultiAgentVecEnv failed: {type(error).__name__}: {error}"
        )
        return
    # no slot spaces: `sb3-marl check` prints them before (sb3_marl.inspection); spaces-differ has them
    probe.add(
        "info",
        "vec-env",
        f"MultiAgentVecEnv: {venv.num_envs} slots per env copy (one per agent); stepped {stepped} times.",
    )


def _step_vec_env(probe: Probe, venv: MultiAgentVecEnv, n: int) -> int:
    venv.seed(probe.seed)
    venv.reset()
    venv.action_space.seed(probe.seed)
    stepped = 0
    while stepped < n and time.monotonic() < probe.deadline:
        if venv.slot_spaces.discrete:
            actions = np.array(
                [probe.rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in venv.action_masks()]
            )
        else:
            actions = np.stack([venv.action_space.sample() for _ in range(venv.num_envs)])
        venv.step(actions)
        stepped += 1
    return stepped
