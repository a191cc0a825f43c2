"""Tiny CPU tensors run fastest on one thread: with several busy processes on a small machine,
torch's thread pool spends most of its time waiting (measured 25× slower at 2 threads)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
