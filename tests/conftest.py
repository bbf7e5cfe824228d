"""Fixtures shared by the test modules."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def torch_one_thread():
    """Small tensors: one torch thread is fastest, and immune to oversubscribed CI machines.
    Modules opt in with ``pytestmark = pytest.mark.usefixtures("torch_one_thread")``."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
