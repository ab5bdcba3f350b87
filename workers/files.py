"""Result files, stored per tenant, written atomically so a re-run never leaves half a file."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app


def job_dir(tenant_id: int, job_id: int) -> Path:
    root = Path(current_app.config["FILES_DIR"]).resolve()
    path = root / "tenants" / str(int(tenant_id)) / "jobs" / str(int(job_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_result(tenant_id: int, job_id: int, filename: str, data: bytes) -> str:
    """Returns the path relative to FILES_DIR."""
    directory = job_dir(tenant_id, job_id)
    target = directory / filename
    tmp = directory / f".{filename}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return str(target.relative_to(Path(current_app.config["FILES_DIR"]).resolve()))


def resolve(tenant_id: int, relative: str) -> Path | None:
    root = Path(current_app.config["FILES_DIR"]).resolve()
    path = (root / relative).resolve()
    tenant_root = (root / "tenants" / str(int(tenant_id))).resolve()
    if not path.is_relative_to(tenant_root) or not path.is_file():
        return None
    return path
