"""Tests of MADQN: SB3 API, Double-DQN targets, prioritized replay, action masks, inactive slots."""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.save_util import save_to_pkl
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv

from sb3_marl.buffers import PrioritizedReplayBuffer, PrioritizedReplayBufferSamples
from sb3_marl.madqn import MADQN, MADQNPolicy

SMALL = dict(learning_starts=50, buffer_size=2_000, batch_size=16, policy_kwargs=dict(net_arch=[16]))


class SlotVecEnv(VecEnv):
    """Four slots with action masks and inactive transitions, as a multi-agent VecEnv gives them.

    Obs ``t`` (a global step counter) allows all of ``Discrete(3)`` but action 2 in even slots and
    action 1 when ``t`` is odd; slot 3 is dead at every ``t % 3 == 2``: its mask is ``[1, 0, 0]`` and the
    transition from that obs is ``inactive``. Episodes last 6 steps. The env counts illegal actions and
    records, per step, the masks it reports for the next observation and which slots were inactive.
    """

    N_SLOTS, N_ACTIONS, EPISODE = 4, 3, 6

    def __init__(self) -> None:
        obs_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
        super().__init__(self.N_SLOTS, obs_space, spaces.Discrete(self.N_ACTIONS))
        self.t = 0
        self.illegal_actions = 0
        self.mask_history: list[np.ndarray] = []
        self.inactive_history: list[np.ndarray] = []
        self._actions = np.zeros(self.N_SLOTS, dtype=np.int64)

    def _dead(self, t: int) -> np.ndarray:
        return np.array([False, False, False, t % 3 == 2])

    def _masks(self, t: int) -> np.ndarray:
        masks = np.ones((self.N_SLOTS, self.N_ACTIONS), dtype=bool)
        masks[::2, 2] = False
        if t % 2:
            masks[:, 1] = False
        masks[self._dead(t)] = [True, False, False]
        return masks

    def _obs(self) -> np.ndarray:
        phase = (self.t % self.EPISODE) / self.EPISODE
        rows = [[phase, slot / self.N_SLOTS, self.t % 2] for slot in range(self.N_SLOTS)]
        return np.array(rows, dtype=np.float32)

    def action_masks(self) -> np.ndarray:
        return self._masks(self.t)

    def reset(self) -> np.ndarray:
        return self._obs()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        legal = self._masks(self.t)[np.arange(self.N_SLOTS), self._actions]
        self.illegal_actions += int((~legal).sum())
        inactive = self._dead(self.t)
        rewards = np.where(inactive, 0.0, (self._actions == 0).astype(np.float32)).astype(np.float32)
        self.t += 1
        done = self.t % self.EPISODE == 0
        obs = self._obs()
        masks = self._masks(self.t)
        infos: list[dict[str, Any]] = [{"action_mask": masks[i]} for i in range(self.N_SLOTS)]
        for i in range(self.N_SLOTS):
            if inactive[i]:
                infos[i]["inactive"] = True
            if done:
                infos[i]["terminal_observation"] = obs[i]
                infos[i]["TimeLimit.truncated"] = False
        self.mask_history.append(masks)
        self.inactive_history.append(inactive)
        return obs, rewards, np.full(self.N_SLOTS, done), infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        if attr_name == "render_mode":
            return [None] * self.N_SLOTS
        raise AttributeError(attr_name)

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        raise AttributeError(attr_name)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
        if method_name == "action_masks":
            return list(self.action_masks())
        raise AttributeError(method_name)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: Any = None) -> list[bool]:
        return [False] * self.N_SLOTS


@pytest.mark.parametrize("prioritized_replay", [True, False])
@pytest.mark.parametrize("dueling", [False, True])
@pytest.mark.parametrize("n_steps", [1, 3])
def test_run(prioritized_replay: bool, dueling: bool, n_steps: int) -> None:
    model = MADQN(
        "MlpPolicy",
        "CartPole-v1",
        prioritized_replay=prioritized_replay,
        n_steps=n_steps,
        learning_starts=50,
        buffer_size=2_000,
        batch_size=16,
        policy_kwargs=dict(net_arch=[16], dueling=dueling),
        seed=0,
    )
    model.learn(300)
    assert model.num_timesteps == 300
    assert model.beta == pytest.approx(1.0)  # annealed over the whole learn() call
    assert model.replay_buffer is not None
    assert model.replay_buffer.alpha == (0.6 if prioritized_replay else 0.0)
    assert model.replay_buffer.n_steps == n_steps
    assert model.q_net.dueling == dueling


@pytest.mark.filterwarnings("ignore::tqdm.TqdmExperimentalWarning")
def test_callbacks_progress_bar_and_logs() -> None:
    class Count(BaseCallback):
        calls = 0

        def _on_step(self) -> bool:
            self.calls += 1
            return True

    env = sb3_make_vec_env("CartPole-v1", n_envs=2, seed=0)
    callback = Count()
    model = MADQN("MlpPolicy", env, train_freq=2, seed=0, **SMALL)  # type: ignore[arg-type]
    model.learn(400, callback=callback, progress_bar=True, log_interval=10**6)
    assert callback.calls == 200
    logged = model.logger.name_to_value
    keys = ("loss", "td_error_mean", "beta", "priority_mean", "priority_max", "is_weight_mean", "n_updates")
    assert all(f"train/{key}" in logged for key in keys)
    assert logged["train/priority_max"] >= logged["train/priority_mean"] > 0


def test_beta_annealing() -> None:
    model = MADQN("MlpPolicy", "CartPole-v1", prioritized_replay_beta_iters=1_000, seed=0, **SMALL)  # type: ignore[arg-type]
    model.learn(500)
    assert model.beta == pytest.approx(0.4 + 0.6 * 500 / 1_000)
    model.learn(600, reset_num_timesteps=False)  # beta_iters counts timesteps: reaches 1 at 1000
    assert model.beta == pytest.approx(1.0)


def test_save_load(tmp_path: Any) -> None:
    params = dict(
        double_q=False,
        prioritized_replay=True,
        prioritized_replay_alpha=0.7,
        prioritized_replay_beta0=0.5,
        prioritized_replay_beta_iters=10_000,
        prioritized_replay_eps=1e-4,
        n_steps=2,
    )
    model = MADQN("MlpPolicy", "CartPole-v1", seed=0, **params, **SMALL)  # type: ignore[arg-type]
    model.learn(300)
    model.save(tmp_path / "model.zip")
    model.save_replay_buffer(tmp_path / "buffer.pkl")

    env = model.get_env()
    assert env is not None
    loaded = MADQN.load(tmp_path / "model.zip", env=env)
    for name, value in params.items():
        assert getattr(loaded, name) == value
    assert loaded.policy_kwargs == model.policy_kwargs
    assert loaded.replay_buffer is not None and loaded.replay_buffer.alpha == 0.7

    obs = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    actions = model.predict(obs, deterministic=True)[0]
    assert np.array_equal(loaded.predict(obs, deterministic=True)[0], actions)

    assert model.replay_buffer is not None
    loaded.load_replay_buffer(tmp_path / "buffer.pkl")
    assert isinstance(loaded.replay_buffer, PrioritizedReplayBuffer)
    leaves = np.arange(model.replay_buffer.n_leaves)
    assert np.array_equal(loaded.replay_buffer.priorities(leaves), model.replay_buffer.priorities(leaves))
    assert loaded.replay_buffer.max_priority == model.replay_buffer.max_priority

    loaded.set_env(sb3_make_vec_env("CartPole-v1", n_envs=1, seed=1))
    loaded.learn(200, reset_num_timesteps=False)
    assert loaded.num_timesteps == 500


def test_load_replay_buffer_needs_prioritized(tmp_path: Any) -> None:
    model = MADQN("MlpPolicy", "CartPole-v1", **SMALL)  # type: ignore[arg-type]
    env = model.get_env()
    assert env is not None
    plain = ReplayBuffer(10, env.observation_space, env.action_space)
    save_to_pkl(tmp_path / "plain.pkl", plain)
    with pytest.raises(TypeError, match="PrioritizedReplayBuffer"):
        model.load_replay_buffer(tmp_path / "plain.pkl")


def test_deterministic() -> None:
    def run() -> list[th.Tensor]:
        model = MADQN("MlpPolicy", "CartPole-v1", seed=3, n_steps=2, **SMALL)  # type: ignore[arg-type]
        model.learn(400)
        return [p.detach().clone() for p in model.policy.parameters()]

    first, second = run(), run()
    assert all(th.equal(a, b) for a, b in zip(first, second, strict=True))


def _linear_model(double_q: bool) -> MADQN:
    """A MADQN whose Q-networks are linear maps of 3-d observations to 3 actions, set by hand."""
    model = MADQN("MlpPolicy", SlotVecEnv(), double_q=double_q, policy_kwargs=dict(net_arch=[]))
    with th.no_grad():
        online, target = model.q_net.q_net[0], model.q_net_target.q_net[0]
        online.weight.copy_(th.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
        target.weight.copy_(th.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]]))
        online.bias.zero_()
        target.bias.zero_()
    return model


def _batch(next_obs: np.ndarray, masks: np.ndarray | None) -> PrioritizedReplayBufferSamples:
    n = len(next_obs)
    tensor = lambda x: th.as_tensor(np.asarray(x, dtype=np.float32))  # noqa: E731
    return PrioritizedReplayBufferSamples(
        observations=tensor(np.zeros((n, 3))),
        actions=th.zeros((n, 1), dtype=th.long),
        next_observations=tensor(next_obs),
        dones=tensor([[0.0], [0.0], [1.0], [0.0]]),
        rewards=tensor([[1.0], [0.5], [2.0], [-1.0]]),
        discounts=tensor([[0.9], [0.81], [0.9], [0.9]]),
        weights=tensor(np.ones((n, 1))),
        indices=np.arange(n),
        next_action_masks=None if masks is None else th.as_tensor(masks),
    )


def test_double_q_target_by_hand() -> None:
    # Online Q(s') = s', target Q(s') = (2 s'_0, s'_1, 3 s'_2).
    next_obs = np.array([[1.0, 0.5, 0.2], [0.3, 0.5, 0.4], [0.0, 1.0, 0.0], [0.1, 0.2, 0.3]])
    # argmax online:              0, 1, 1, 2
    # argmax target (2.0,.5,.6): 0 | (.6,.5,1.2): 2 | (0,1,0): 1 | (.2,.2,.9): 2
    # Double: Q_target(s', argmax online) = 2.0, 0.5, 1.0, 0.9; vanilla: max Q_target = 2.0, 1.2, 1.0, 0.9
    rewards, dones = np.array([1.0, 0.5, 2.0, -1.0]), np.array([0, 0, 1, 0])
    discounts = np.array([0.9, 0.81, 0.9, 0.9])
    expected_double = rewards + (1 - dones) * discounts * np.array([2.0, 0.5, 1.0, 0.9])
    expected_vanilla = rewards + (1 - dones) * discounts * np.array([2.0, 1.2, 1.0, 0.9])
    double = _linear_model(True)._compute_target(_batch(next_obs, None)).numpy().ravel()
    vanilla = _linear_model(False)._compute_target(_batch(next_obs, None)).numpy().ravel()
    np.testing.assert_allclose(double, expected_double, rtol=1e-6)
    np.testing.assert_allclose(vanilla, expected_vanilla, rtol=1e-6)
    # They differ exactly where the online and target argmax differ (and the transition is not terminal).
    assert np.array_equal(~np.isclose(double, vanilla), np.array([False, True, False, False]))

    # Masks: the greedy next action is the best legal one, for both targets.
    masks = np.array([[False, True, True], [True, False, True], [True, True, True], [True, True, False]])
    # online over legal: 1 (.5 > .2), 2 (.4 > .3), 1, 1 (.2 > .1) -> target values .5, 1.2, 1.0, .2
    # target over legal: 2 (.6 > .5), 2, 1, 0 or 1 (.2 == .2) -> .6, 1.2, 1.0, .2
    double = _linear_model(True)._compute_target(_batch(next_obs, masks)).numpy().ravel()
    vanilla = _linear_model(False)._compute_target(_batch(next_obs, masks)).numpy().ravel()
    bootstrap = (1 - dones) * discounts
    np.testing.assert_allclose(double, rewards + bootstrap * np.array([0.5, 1.2, 1.0, 0.2]), rtol=1e-6)
    np.testing.assert_allclose(vanilla, rewards + bootstrap * np.array([0.6, 1.2, 1.0, 0.2]), rtol=1e-6)


def test_train_uses_target_and_updates_priorities() -> None:
    """train() sets each sampled priority to |target - Q(s, a)| + eps of the network before the step."""
    model = MADQN(
        "MlpPolicy", "CartPole-v1", learning_starts=1_000, buffer_size=1_000, prioritized_replay=True, seed=0
    )
    model.learn(200)  # fills the buffer, no training yet
    buffer = model.replay_buffer
    assert buffer is not None
    np.random.seed(7)
    samples = buffer.sample(32, beta=model.beta)
    with th.no_grad():
        current = model.q_net(samples.observations).gather(1, samples.actions.long())
    expected = (model._compute_target(samples) - current).abs().numpy().ravel() + model.prioritized_replay_eps
    before = [p.detach().clone() for p in model.q_net.parameters()]
    np.random.seed(7)
    model.train(gradient_steps=1, batch_size=32)
    np.testing.assert_allclose(buffer.priorities(samples.indices), expected**buffer.alpha, rtol=1e-5)
    assert any(not th.equal(a, b) for a, b in zip(before, model.q_net.parameters(), strict=True))


def test_is_weights_scale_the_loss() -> None:
    """train() minimizes the mean of IS weight times per-sample Huber loss: zero weights move nothing."""
    model = _linear_model(True)
    model.set_logger(configure(None, []))
    batch = _batch(np.eye(3)[[0, 1, 2, 0]], None)
    weights = th.tensor([[1.0], [0.0], [0.5], [0.25]])
    with th.no_grad():
        current = model.q_net(batch.observations).gather(1, batch.actions)
        per_sample = th.nn.functional.smooth_l1_loss(current, model._compute_target(batch), reduction="none")
    expected = (weights * per_sample).mean().item()
    assert expected != pytest.approx(per_sample.mean().item())

    before = [p.detach().clone() for p in model.q_net.parameters()]
    model.replay_buffer.sample = lambda *args, **kwargs: batch._replace(weights=0 * weights)  # type: ignore[method-assign, union-attr]
    model.train(gradient_steps=1, batch_size=4)
    assert all(th.equal(a, b) for a, b in zip(before, model.q_net.parameters(), strict=True))

    model.replay_buffer.sample = lambda *args, **kwargs: batch._replace(weights=weights)  # type: ignore[method-assign, union-attr]
    model.train(gradient_steps=1, batch_size=4)
    assert model.logger.name_to_value["train/loss"] == pytest.approx(expected)


def test_masked_actions_never_chosen() -> None:
    env = SlotVecEnv()
    model = MADQN("MlpPolicy", env, seed=0, **SMALL)  # type: ignore[arg-type]
    with th.no_grad():
        model.q_net.q_net[-1].bias.copy_(th.tensor([0.0, 50.0, 100.0]))  # greedy prefers 2, then 1
    obs, masks = env.reset(), env.action_masks()
    assert (model.predict(obs, deterministic=True)[0] == 2).all()  # unmasked
    greedy = model.predict(obs, deterministic=True, action_masks=masks)[0]
    best_legal = np.where(masks[:, 2], 2, np.where(masks[:, 1], 1, 0))
    assert np.array_equal(greedy, best_legal)
    single = model.predict(obs[0], deterministic=True, action_masks=masks[0])[0]
    assert single.shape == () and single == best_legal[0]

    model.exploration_rate = 1.0
    chosen = np.stack([model.predict(obs, action_masks=masks)[0] for _ in range(300)])
    assert masks[np.arange(len(masks)), chosen].all()
    for slot in range(len(masks)):  # uniform over legal actions: each one shows up
        assert set(np.unique(chosen[:, slot])) == set(np.flatnonzero(masks[slot]))


def test_multi_agent_inactive_and_masks() -> None:
    env = SlotVecEnv()
    model = MADQN("MlpPolicy", env, train_freq=1, exploration_fraction=0.5, seed=0, **SMALL)  # type: ignore[arg-type]
    model.learn(400)  # 100 env steps of 4 slots; learning starts at step 13
    assert model._env_action_masks is not None
    assert env.illegal_actions == 0

    buffer = model.replay_buffer
    assert buffer is not None and buffer.next_action_masks is not None
    steps = len(env.mask_history)
    assert steps == 100
    assert np.array_equal(buffer.next_action_masks[:steps], np.stack(env.mask_history))
    inactive = np.stack(env.inactive_history)
    leaves = np.arange(steps * env.num_envs).reshape(steps, env.num_envs)
    assert inactive.any()
    assert (buffer.priorities(leaves[inactive]) == 0).all()
    assert (buffer.priorities(leaves[~inactive]) > 0).all()
    sampled = np.concatenate([buffer.sample(64, beta=model.beta).indices for _ in range(50)])
    assert not np.isin(sampled, leaves[inactive]).any()


def test_multi_agent_pettingzoo() -> None:
    from sb3_marl.envs import make_vec_env

    env = make_vec_env("mpe2.simple_spread_v3", n_envs=2, seed=0)
    assert env.num_envs == 6
    model = MADQN("MlpPolicy", env, train_freq=1, seed=0, **SMALL)  # type: ignore[arg-type]
    model.learn(600)
    assert model.num_timesteps == 600
    assert model._env_action_masks is not None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(prioritized_replay_alpha=-0.1), "prioritized_replay_alpha"),
        (dict(prioritized_replay_beta0=0.0), "prioritized_replay_beta0"),
        (dict(prioritized_replay_beta0=1.5), "prioritized_replay_beta0"),
        (dict(prioritized_replay_beta_iters=0), "prioritized_replay_beta_iters"),
        (dict(prioritized_replay_eps=0.0), "prioritized_replay_eps"),
        (dict(prioritized_replay_eps=-1e-6), "prioritized_replay_eps"),
        (dict(replay_buffer_class=ReplayBuffer), "PrioritizedReplayBuffer"),
        (dict(replay_buffer_kwargs=dict(alpha=0.5)), "prioritized_replay_alpha"),
        (dict(optimize_memory_usage=True), "optimize_memory_usage"),
    ],
)
def test_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MADQN("MlpPolicy", "CartPole-v1", **kwargs)


def test_continuous_action_space_error() -> None:
    with pytest.raises(ValueError, match=r"Discrete action space.*Box.*PPO or SAC.*discretize"):
        MADQN("MlpPolicy", "Pendulum-v1")


def test_unknown_policy_error() -> None:
    with pytest.raises(ValueError, match="NoSuchPolicy"):
        MADQN("NoSuchPolicy", "CartPole-v1")


def test_policy_aliases() -> None:
    model = MADQN("MlpPolicy", "CartPole-v1", policy_kwargs=dict(dueling=True))
    assert isinstance(model.policy, MADQNPolicy)
    q_values = model.q_net(th.zeros((2, 4)))
    assert q_values.shape == (2, 2)


@pytest.mark.parametrize(
    "policy_kwargs, fused",
    [
        ({}, True),
        ({"optimizer_kwargs": {"eps": 1e-5}}, True),
        ({"optimizer_kwargs": {"foreach": True}}, None),  # the user's choice stands
        ({"optimizer_kwargs": {"fused": False}}, False),
        ({"optimizer_class": th.optim.RMSprop}, "absent"),  # only Adam and AdamW are given fused
    ],
)
def test_fused_adam_by_default(
    policy_kwargs: dict[str, Any], fused: bool | str | None, tmp_path: Any
) -> None:
    model = MADQN("MlpPolicy", "CartPole-v1", policy_kwargs=policy_kwargs, learning_starts=0, batch_size=8)
    assert model.policy.optimizer.defaults.get("fused", "absent") == fused
    model.learn(16)  # the optimizer steps
    model.save(tmp_path / "model")
    loaded = MADQN.load(tmp_path / "model")
    assert loaded.policy.optimizer.defaults.get("fused", "absent") == fused


class _CountingTrain(th.nn.Identity):
    """A module with its own ``train()``, which the policy must still call."""

    calls: list[bool]

    def train(self, mode: bool = True) -> _CountingTrain:
        self.calls.append(mode)
        return super().train(mode)


def test_training_mode_reaches_every_module() -> None:
    model = MADQN("MlpPolicy", "CartPole-v1", policy_kwargs=dict(dueling=True, net_arch=[8]))
    counting = _CountingTrain()
    counting.calls = []
    model.q_net.q_net.append(counting)
    model.q_net.q_net.append(th.nn.Dropout(0.5))  # a module whose output depends on the mode
    model.policy.set_training_mode(True)
    counting.calls.clear()
    for mode in (False, False, True, True, False):
        model.policy.set_training_mode(mode)
        assert model.policy.training is mode
        assert all(module.training is mode for module in model.q_net.modules())
    assert counting.calls == [False, True, False]  # a repeated mode changes nothing
    x = th.ones((4, 4))
    model.policy.set_training_mode(False)
    assert th.equal(model.q_net(x), model.q_net(x))  # dropout off


@pytest.mark.slow
@pytest.mark.timeout(1_800)
def test_cartpole_learns() -> None:
    """rl-baselines3-zoo's DQN CartPole-v1 settings, plus a learning rate decaying linearly to 0 and
    3-step returns (MADQN's Double DQN and PER on): greedy mean return >= 475 after 50k steps.
    Seeds 0 and 1 reach 500 (about 80 s CPU each with one torch thread)."""
    threads = th.get_num_threads()
    th.set_num_threads(1)  # small networks: extra threads only contend on a busy machine
    try:
        start = time.time()
        model = MADQN(
            "MlpPolicy",
            "CartPole-v1",
            learning_rate=LinearSchedule(2.3e-3, 0.0, 1.0),
            batch_size=64,
            buffer_size=100_000,
            learning_starts=1_000,
            gamma=0.99,
            target_update_interval=10,
            train_freq=256,
            gradient_steps=128,
            exploration_fraction=0.16,
            exploration_final_eps=0.04,
            n_steps=3,
            prioritized_replay=True,
            policy_kwargs=dict(net_arch=[256, 256]),
            seed=0,
        )
        model.learn(50_000)
        eval_env = sb3_make_vec_env("CartPole-v1", n_envs=1, seed=123)
        mean_return, std_return = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=True)
        print(f"CartPole-v1: {mean_return:.1f} +/- {std_return:.1f} after {time.time() - start:.0f} s")
        assert mean_return >= 475
    finally:
        th.set_num_threads(threads)


@pytest.mark.parametrize("scale", [1e-3, 1e3])  # below max_norm: left alone; above: scaled down
def test_clip_grad_norm_matches_torch(scale: float) -> None:
    from sb3_marl.madqn.madqn import clip_grad_norm

    net = th.nn.Sequential(th.nn.Linear(3, 4), th.nn.ReLU(), th.nn.Linear(4, 2))
    net(th.ones(5, 3)).sum().mul(scale).backward()
    grads = [p.grad.clone() for p in net.parameters()]  # type: ignore[union-attr]
    expected = th.linalg.vector_norm(th.stack([g.norm() for g in grads]))  # by hand: the norm of norms
    th.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
    torch_clipped = [p.grad.clone() for p in net.parameters()]  # type: ignore[union-attr]
    for p, g in zip(net.parameters(), grads, strict=True):
        p.grad = g.clone()
    clip_grad_norm(list(net.parameters()), 10.0)
    for p, want, raw in zip(net.parameters(), torch_clipped, grads, strict=True):
        assert th.allclose(p.grad, want)  # type: ignore[arg-type]
        factor = min(1.0, 10.0 / (float(expected) + 1e-6))
        assert th.allclose(p.grad, raw * factor)  # type: ignore[arg-type]


def test_policy_device_follows_a_move() -> None:
    model = MADQN("MlpPolicy", "CartPole-v1", device="cpu", **SMALL)
    assert model.policy.device == th.device("cpu")  # looked up and kept
    model.policy.to("meta")  # a move makes it look again
    assert model.policy.device == th.device("meta")


def test_no_forward_pass_when_every_slot_explores() -> None:
    model = MADQN("MlpPolicy", "CartPole-v1", seed=0, **{**SMALL, "learning_starts": 0})
    model.learn(1)  # sets the env up
    calls = []

    def greedy(*args: Any, **kwargs: Any) -> tuple[np.ndarray, None]:
        calls.append(1)
        return np.zeros(1, dtype=np.int64), None

    model.policy.predict = greedy  # type: ignore[method-assign]
    model.exploration_rate = 1.0
    model._sample_action(0, n_envs=1)
    assert not calls  # every slot explored: no greedy actions needed
    model.exploration_rate = 0.0
    model._sample_action(0, n_envs=1)
    assert calls == [1]
