"""The services' record cache: one JSON file per answer, with a time to live."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lms_cli.atomic import write_atomic
from lms_cli.errors import OutputError


class Cache:
    """JSON answers under ``root/<service>/<hash of id>.json``; unreadable entries count as absent."""

    VERSION = 1

    def __init__(
        self, root: Path | None, ttl: float, ttl_missing: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.root = root
        self.ttl = ttl
        self.ttl_missing = ttl_missing
        self._clock = clock

    def path(self, service: str, key: str) -> Path | None:
        if self.root is None:
            return None
        digest = hashlib.sha256(key.casefold().encode()).hexdigest()[:40]
        return self.root / service / f"{digest}.json"

    def get(self, service: str, key: str, *, any_age: bool = False) -> tuple[bool, Any] | None:
        """``(found, record)`` when a usable entry exists; ``None`` when absent, stale or corrupt."""
        path = self.path(service, key)
        if path is None:
            return None
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return None
        if not (
            isinstance(data, dict)
            and data.get("v") == self.VERSION
            and data.get("key") == key.casefold()
            and isinstance(data.get("saved"), (int, float))
            and "record" in data
        ):
            return None
        record = data["record"]
        if record is not None and not isinstance(record, dict):
            return None
        age = self._clock() - data["saved"]
        if not any_age and not 0 <= age <= (self.ttl if record is not None else self.ttl_missing):
            return None
        return record is not None, record

    def put(self, service: str, key: str, record: Mapping[str, Any] | None) -> None:
        """Save an answer (``None``: no such record); a cache that cannot be written is skipped."""
        path = self.path(service, key)
        if path is None:
            return
        data = {"v": self.VERSION, "service": service, "key": key.casefold(), "saved": self._clock(), "record": record}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(data, ensure_ascii=False), durable=False, owned=True)
        except (OSError, OutputError):
            pass  # a read-only or full cache must never fail a command
