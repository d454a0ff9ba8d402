"""Shared fixtures: tiny study files and a way to run the `uat` command as a user would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TINY = """
[study]
name = "tiny"
title = "A tiny study"
figure = "grid"

[grid]
target = ["sin(freq=1)", "abs"]
activation = ["tanh", "relu"]
width = [2, 4]
depth = [1]
seed = [0, 1]
optimizer = ["adam(lr=1e-2, steps=100)", "lm(steps=30)"]

[data]
n_train = 32
n_test = 64

[scale.smoke]
seed = [0]
"""


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def uat_cmd(*args, timeout=120, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m uat ARGS` in a fresh process, capturing output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "uat", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL, **kwargs)


def uat_popen(*args) -> subprocess.Popen:
    """`python -m uat ARGS` in the background, in its own process group (so a test can send a
    signal to it and its workers at once, as a terminal's Ctrl-C does)."""
    return subprocess.Popen([sys.executable, "-m", "uat", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)
