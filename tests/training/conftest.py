"""Training tests: one torch thread in every test (tiny models gain nothing from threads, and on
a busy 2-core machine a second thread costs a lot), restored afterwards."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
