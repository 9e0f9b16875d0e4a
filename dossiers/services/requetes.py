"""Use case: keep what a job will read (a JSON request body, an uploaded file) content-addressed in the
documents store, before the job is submitted: the job's message carries the key, never the payload.

The key holds the SHA-256 of the bytes, so bytes already under it are these bytes: storing twice
(a retry, a concurrent submission of the same thing) writes once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dossiers.errors import ObjectExists
from dossiers.ports import AppPorts, Storage

__all__ = ["store_json", "store_once", "store_upload"]


def store_once(storage: Storage, key: str, data: bytes, content_type: str) -> str:
    """``data`` under the content-addressed ``key`` unless already there; returns the key."""
    if not storage.exists(key):
        try:
            storage.put(key, data, content_type=content_type)
        except ObjectExists:  # the same bytes, stored by a concurrent submission
            pass
    return key


def store_json(app: AppPorts, payload: Any) -> str:
    """Store a JSON request body content-addressed; returns its key (``requetes/<sha256>.json``)."""
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return store_once(app.storage, f"requetes/{hashlib.sha256(data).hexdigest()}.json", data, "application/json")


def store_upload(app: AppPorts, data: bytes) -> str:
    """Store an uploaded file as received, content-addressed (``televersements/<sha256>``)."""
    return store_once(app.storage, f"televersements/{hashlib.sha256(data).hexdigest()}", data,
                      "application/octet-stream")
