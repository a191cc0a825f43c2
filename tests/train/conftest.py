"""Training tests use tiny models, for which one torch thread is fastest and, on a busy
machine, far faster than several (thread hand-offs dominate). Restored after each test."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
