"""Env copies behind one send/recv interface: each in this process, or each in a worker process of its
own that answers every call, an error included, and is named when it dies."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from pettingzoo.utils.env import AECEnv, ParallelEnv
from stable_baselines3.common.vec_env.base_vec_env import CloudpickleWrapper

from sb3_marl.envs.copy import EnvCopy, check_pettingzoo_env, env_name
from sb3_marl.envs.spaces import build_slot_spaces

EnvFn = Callable[[], ParallelEnv | AECEnv]


class _RemoteError:
    """An exception raised by an env copy, kept to be raised again once every copy has answered."""

    def __init__(self, error: BaseException, trace: str = ""):
        self.error = error
        self.trace = trace

    def raise_error(self) -> None:
        if self.trace and hasattr(self.error, "add_note"):
            self.error.add_note(f"Raised in an env copy's subprocess:\n{self.trace}")
        raise self.error


def _worker(
    remote: Connection,
    parent_remote: Connection,
    env_fn: CloudpickleWrapper,
    agent_indicator: bool,
    copy_index: int,
) -> None:
    parent_remote.close()
    copy: EnvCopy | _RemoteError
    try:
        copy = _make_copy(env_fn.var, agent_indicator, copy_index)
    except Exception as error:  # answer every call with it, so the parent raises it, not an EOFError
        copy = _RemoteError(error, traceback.format_exc())
    while True:
        try:
            method, args = remote.recv()
        except (EOFError, KeyboardInterrupt):  # the parent has gone, or Ctrl-C reached the group
            return
        if isinstance(copy, _RemoteError):
            remote.send(None if method == "close" else copy)
        else:
            try:
                remote.send(getattr(copy, method)(*args))
            except Exception as error:
                remote.send(_RemoteError(error, traceback.format_exc()))
        if method == "close":
            remote.close()
            return


def _make_copy(env_fn: EnvFn, agent_indicator: bool, copy_index: int) -> EnvCopy:
    env = check_pettingzoo_env(env_fn())
    agents = list(env.possible_agents)
    if not agents:
        raise ValueError(f"Env {env_name(env)} has no possible_agents: list the agents that can appear.")
    obs_spaces = [env.observation_space(a) for a in agents]
    act_spaces = [env.action_space(a) for a in agents]
    slot_spaces = build_slot_spaces(agents, obs_spaces, act_spaces, agent_indicator)
    return EnvCopy(env, slot_spaces, copy_index)


class _LocalCopy:
    """An env copy in this process, behind the same send/recv calls as a subprocess. ``recv`` returns
    the result, or a ``_RemoteError`` holding what the call raised."""

    def __init__(self, env_fn: EnvFn, agent_indicator: bool, copy_index: int):
        self.copy = _make_copy(env_fn, agent_indicator, copy_index)
        self._result: Any = None

    def send(self, method: str, *args: Any) -> None:
        try:
            self._result = getattr(self.copy, method)(*args)
        except Exception as error:
            self._result = _RemoteError(error)

    def recv(self) -> Any:
        return self._result

    def stop(self) -> None:
        pass


class _RemoteCopy:
    """An env copy in a subprocess. A worker that has died answers with a ``_RemoteError`` that says so."""

    def __init__(self, env_fn: EnvFn, agent_indicator: bool, context: Any, copy_index: int):
        self.remote, work_remote = context.Pipe()
        args = (work_remote, self.remote, CloudpickleWrapper(env_fn), agent_indicator, copy_index)
        self.process = context.Process(target=_worker, args=args, daemon=True)
        self.process.start()
        work_remote.close()
        self.copy_index = copy_index
        self.method = "start"

    def send(self, method: str, *args: Any) -> None:
        self.method = method
        with contextlib.suppress(OSError):  # a dead worker's pipe is broken: recv says so
            self.remote.send((method, args))

    def recv(self) -> Any:
        try:
            return self.remote.recv()
        except (EOFError, OSError):
            return _RemoteError(self._died())

    def _died(self) -> RuntimeError:
        self.process.join(timeout=1)
        code = self.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return RuntimeError(
            f"The worker process of env copy {self.copy_index} (pid {self.process.pid}) died during "
            f"{self.method}() ({how}); its own error, if it wrote one, is in the stderr above. Envs that "
            "crash the interpreter (native code, os._exit) or run out of memory do this; make_vec_env(..., "
            "subprocess=False) runs the copies in this process, where the error shows."
        )

    def stop(self) -> None:
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()


def _gather(copies: Sequence[_LocalCopy | _RemoteCopy]) -> list[Any]:
    """Every copy's answer to the call just sent; the first error is raised only after all have
    answered, so that no answer is left behind in a pipe."""
    results = [copy.recv() for copy in copies]
    for result in results:
        if isinstance(result, _RemoteError):
            result.raise_error()
    return results
