"""Shared test setup: no test leaks torch's CPU thread count into the next one."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _torch_threads_restored():
    """Training runs set torch's thread count for the process (``TrainConfig.threads``); put it back,
    so that a later test's float sums (and their thresholds) do not depend on the test order."""
    before = torch.get_num_threads()
    yield
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)
