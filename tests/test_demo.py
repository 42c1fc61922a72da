"""The README's first command: `booking demo` comes up on SQLite and its printed tokens work."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx

from booking.auth import mint_token
from tests.servers import booking_process


def test_demo_prints_working_tokens(tmp_path: Path) -> None:
    with booking_process(["demo"], env={}, cwd=tmp_path) as (base, _, output):
        printed = output.read_text()
        assert "made one up" in printed, "without SUPABASE_JWT_SECRET the demo says it invented one"
        assert f"{base}/docs" in printed
        # The booking page comes first, and offers the demo student (the token of the printed student).
        demo_lines = [line for line in printed.splitlines() if not line.startswith(("INFO", "WARNING"))]
        assert re.findall(r"http://\S+", "\n".join(demo_lines))[0] == f"{base}/book/demo"
        page = httpx.get(f"{base}/book/demo")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        (slots_url,) = re.findall(r"curl '(\S+/slots\S+)'", printed)
        assert httpx.get(slots_url).status_code == 200, "the printed slots request works as it is"
        tokens = dict(re.findall(r"  (\w[\w ]*?) token[^:\n]*:\n\s+(\S+)", printed))
        assert {"Admin", "Brand admin", "Instructor", "Student"} <= set(tokens)
        assert f'"demoToken": "{tokens["Student"]}"' in page.text

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

        # Without Stripe: Maya's price is shown, a booking waits, and the brand admin marks it paid.
        assert '"payments": false' in page.text and '"currency": "eur"' in page.text
        slot = httpx.get(slots_url).json()["slots"][0]["starts_at"]
        body = {"brand_id": demo["id"], "starts_at": slot, "student_timezone": "Europe/Berlin"}
        maya = next(i for i in instructors if i["name"] == "Maya Keller")
        booked = httpx.post(
            f"{base}/api/bookings",
            json=body | {"instructor_id": maya["id"]},
            headers={"Authorization": f"Bearer {tokens['Student']}"},
        )
        assert booked.status_code == 201, booked.text
        booking = booked.json()["booking"]
        assert (booking["status"], booking["price"]) == ("pending", {"amount": 6000, "currency": "eur"})
        paid = httpx.patch(
            f"{base}/api/bookings/{booking['id']}",
            json={"payment_status": "paid"},
            headers={"Authorization": f"Bearer {tokens['Brand admin']}"},
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["booking"]["status"] == "confirmed"
        assert paid.json()["booking"]["payment"]["provider"] == "manual"
    assert (tmp_path / "booking-demo.db").exists()


def test_serve_without_a_secret_refuses_user_tokens_and_says_so(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'plain.db'}", "SUPABASE_SERVICE_ROLE_KEY": "svc"}
    with booking_process(["serve"], env=env, cwd=tmp_path) as (base, _, output):
        token = mint_token("some-secret-nobody-configured-0123456789", sub=str(uuid.uuid4()))
        refused = httpx.get(f"{base}/api/brands", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        assert "SUPABASE_JWT_SECRET" in refused.json()["error"]["message"]
        assert httpx.get(f"{base}/api/brands", headers={"Authorization": "Bearer svc"}).status_code == 200
        assert "SUPABASE_JWT_SECRET and SUPABASE_URL are not set" in output.read_text()
