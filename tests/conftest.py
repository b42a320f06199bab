"""Shared test settings: small networks train fastest on one thread, and W&B never goes online."""

import os

import pytest
import torch as th

os.environ.setdefault("WANDB_MODE", "offline")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)
