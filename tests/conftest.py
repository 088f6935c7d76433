"""Shared test setup: headless Qt, few threads, tiny seeded models."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("MASKGIT_TEST_THREADS", "2")))
