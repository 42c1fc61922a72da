"""The README's first command: `booking demo` comes up on SQLite and its printed tokens work."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.servers import booking_process


def test_demo_prints_working_tokens(tmp_path: Path) -> None:
    with booking_process(["demo"], env={}, cwd=tmp_path) as (base, _, output):
        printed = output.read_text()
        assert "made one up" in printed, "without SUPABASE_JWT_SECRET the demo says it invented one"
        assert f"{base}/docs" in printed
        tokens = dict(re.findall(r"  (\w[\w ]*?) token[^:\n]*:\n\s+(\S+)", printed))
        assert {"Admin", "Brand admin", "Instructor", "Student"} <= set(tokens)

        created = httpx.post(
            f"{base}/api/brands",
            json={"name": "Made in the demo", "slug": "made-in-demo"},
            headers={"Authorization": f"Bearer {tokens['Admin']}"},
        )
        assert created.status_code == 201, created.text
        brands = httpx.get(f"{base}/api/brands").json()["brands"]
        demo = next(b for b in brands if b["slug"] == "demo")
        instructors = httpx.get(f"{base}/api/instructors", params={"brand_id": demo["id"]}).json()[
            "instructors"
        ]
        assert {i["timezone"] for i in instructors} == {"Europe/Berlin", "America/New_York"}
        student = httpx.post(
            f"{base}/api/brands",
            json={"name": "No", "slug": "no"},
            headers={"Authorization": f"Bearer {tokens['Student']}"},
        )
        assert student.status_code == 403
    assert (tmp_path / "booking-demo.db").exists()
