"""Guards around env calls: a POSIX timer that interrupts a call that does not return, closing an env
unless it hung, and the fault that ends random play with an error finding."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any


class Timeout(BaseException):
    """Raised by the alarm into whatever runs, env code included (a BaseException: `except Exception`
    in the env does not swallow it)."""


class EnvFault(Exception):
    """An env call raised or broke the PettingZoo API; ends random play with an error finding.

    :param code: the finding's code
    :param message: what went wrong
    :param fix: what to do about it
    """

    def __init__(self, code: str, message: str, fix: str):
        super().__init__(message)
        self.code, self.message, self.fix = code, message, fix

    @classmethod
    def raised(cls, what: str, error: Exception) -> EnvFault:
        """The fault of an env call, ``what``, that raised ``error``."""
        return cls(
            "env-raised",
            f"{what} raised {type(error).__name__}: {error}",
            "Mend the env (or its env_kwargs).",
        )


@contextlib.contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Raise ``Timeout`` after ``seconds`` where a POSIX timer can (the main thread); an outer timer,
    such as pytest-timeout's, is kept: when it is due first nothing is set, else it is re-armed after.

    :param seconds: the time the block may take
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old_handler = signal.getsignal(signal.SIGALRM)
    old_delay, old_interval = signal.getitimer(signal.ITIMER_REAL)
    if old_handler is None or (old_delay and old_delay <= seconds):
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise Timeout

    start = time.monotonic()
    signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


@contextlib.contextmanager
def closing(env: Any) -> Iterator[None]:
    """Close ``env`` after use, except after a timeout: closing a hung env may hang too.

    :param env: a PettingZoo env or a VecEnv
    """
    timed_out = False
    try:
        yield
    except Timeout:
        timed_out = True
        raise
    finally:
        if not timed_out:
            with contextlib.suppress(Exception):
                env.close()
