"""The algorithm registry (``sb3_marl.algos``): each declaration holds against the library itself, and
``train`` and ``check`` read it."""

from __future__ import annotations

import inspect

import pytest
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_marl import make_vec_env
from sb3_marl.algos import ALGOS, MIXERS, AlgoSpec, fitting_algos, get_algo
from sb3_marl.training import TrainConfig, plan_run

SPREAD = "mpe2.simple_spread_v3"


def _build(cls: type[BaseAlgorithm], continuous: bool, **kwargs) -> BaseAlgorithm:
    env = make_vec_env(SPREAD, env_kwargs={"N": 2, "max_cycles": 5, "continuous_actions": continuous})
    small = {"buffer_size": 64} if "buffer_size" in inspect.signature(cls).parameters else {}
    return cls("MlpPolicy", env, **small, **kwargs)


@pytest.mark.parametrize("spec", list(ALGOS.values()), ids=list(ALGOS))
def test_each_declaration_holds_in_the_library(spec: AlgoSpec):
    cls = spec.load()
    assert issubclass(cls, BaseAlgorithm)
    assert spec.masks == ("action_masks" in inspect.signature(cls.predict).parameters)
    for continuous, kind in ((False, "Discrete"), (True, "Box")):
        if kind in spec.action_spaces:
            _build(cls, continuous)
        else:
            with pytest.raises((AssertionError, ValueError), match="action space"):
                _build(cls, continuous)
    if not spec.mixers:
        assert "mixer" not in inspect.signature(cls).parameters
    for mixer in spec.mixers:
        assert _build(cls, False, mixer=mixer).mixer == mixer  # type: ignore[attr-defined]
        if spec.n_steps_with_mixer:
            _build(cls, False, mixer=mixer, n_steps=3)
        else:
            with pytest.raises(ValueError, match="n_steps"):
                _build(cls, False, mixer=mixer, n_steps=3)


def test_mixers_are_the_library_mixers():
    from sb3_marl.madqn.mixers import MIXERS as LIBRARY_MIXERS

    assert tuple(LIBRARY_MIXERS) == MIXERS
    with pytest.raises(ValueError, match="Unknown algorithm 'sac': choose from madqn, ppo"):
        get_algo("sac")


def test_fitting_algos_follow_the_declarations():
    from gymnasium import spaces

    assert fitting_algos("e", spaces.Discrete(3), needs_masks=False) == list(ALGOS)
    assert fitting_algos("e", spaces.Discrete(3), needs_masks=True) == ["madqn", "maskable_ppo"]
    assert fitting_algos("e", spaces.Box(-1, 1, (2,)), needs_masks=False) == ["ppo", "a2c"]
    why = ALGOS["dqn"].misfit("e", spaces.Box(-1, 1, (2,)), False)
    assert why == "it needs a Discrete action space and e has Box(-1.0, 1.0, (2,), float32)"


def test_train_says_what_the_mixer_overrides_set():
    """The preset's mixer_overrides set n_steps=1 for QMIX: train says so in one note."""
    plan = plan_run(TrainConfig("madqn", SPREAD, mixer="qmix", env_kwargs={"max_cycles": 5}))
    assert plan.algo_kwargs["n_steps"] == 1 and plan.algo_kwargs["mixer"] == "qmix"
    assert plan.notes == [
        "sb3-marl: using n_steps=1 with --mixer qmix (mixer_overrides.qmix of the madqn hyperparameters)"
    ]
    assert plan_run(TrainConfig("madqn", SPREAD, env_kwargs={"max_cycles": 5})).notes == []


def test_train_refuses_what_the_library_refuses():
    """n-step returns with a mixer, and a mixer on an algorithm without one, fail before anything is made."""
    overrides = {"mixer_overrides": {"vdn": {"n_steps": 3}}}
    with pytest.raises(ValueError, match="madqn does not take n-step returns with a mixer, and the"):
        plan_run(TrainConfig("madqn", SPREAD, mixer="vdn", hyperparams=overrides))
    with pytest.raises(ValueError, match="madqn does not take n-step returns with a mixer"):
        plan_run(TrainConfig("madqn", SPREAD, hyperparams={"mixer": "qmix", "n_steps": 2}))
    with pytest.raises(ValueError, match="--mixer needs --algo madqn, not a2c, which takes no mixer"):
        plan_run(TrainConfig("a2c", SPREAD, mixer="vdn"))
    with pytest.raises(ValueError, match="Unknown mixer 'sum': give one of vdn, qmix"):
        plan_run(TrainConfig("madqn", SPREAD, hyperparams={"mixer": "sum"}))
