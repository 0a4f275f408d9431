"""Logging for the stage scripts: one log file per job, and progress lines that do not flood."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path


def to_file(path: str | Path, name: str = "panelmatch") -> logging.Logger:
    """A logger writing timestamped lines to `path` (created with its folder)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(name)
    logger.handlers.clear()
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


class Progress:
    """Logs "done/total (rate/s)" at most every `every` seconds, and once at the end."""

    def __init__(self, logger: logging.Logger, what: str, total: int, every: float = 10.0):
        self.logger, self.what, self.total, self.every = logger, what, total, every
        self.start = self.last = time.monotonic()
        self.done = 0
        self._lock = threading.Lock()

    def step(self, n: int = 1) -> None:
        """Count `n` more done (thread-safe); log when `every` seconds passed, or at the end."""
        with self._lock:
            self.done += n
            now = time.monotonic()
            if now - self.last < self.every and self.done != self.total:
                return
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            self.logger.info("%s: %d/%d (%.1f/s)", self.what, self.done, self.total, rate)
