"""Logging for rule scripts: one log file per job, messages from rank 0 only."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from mpi4py import MPI


def setup(log_path: str | Path | None = None, level: int = logging.INFO) -> logging.Logger:
    """Send the ``lisse`` loggers to ``log_path`` (and stderr); silence ranks other than 0."""
    logger = logging.getLogger("lisse")
    logger.handlers.clear()
    logger.setLevel(level if MPI.COMM_WORLD.rank == 0 else logging.ERROR)
    formatter = logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None and MPI.COMM_WORLD.rank == 0:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    return logger
