"""django-appointment, installed in its own virtual environment, measured in the same run as ours."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

VENV = Path(__file__).parent / ".peer-venv"
PEER_PACKAGE = "django-appointment"


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", PEER_PACKAGE], check=True)
    return python


def run_peer() -> dict[str, Any]:
    python = ensure_venv()
    result = subprocess.run(
        [str(python), str(Path(__file__).parent / "peer_django.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))
