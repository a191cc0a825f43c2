"""Parity tests build torch modules in float64; the default dtype is restored after each test so
no other test folder sees it."""

import pytest
import torch


@pytest.fixture
def float64_default():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)
