"""The peer: django-appointment, run inside its own virtual environment by `python -m bench peer`.

Standalone on purpose (it imports nothing of this project). Same scenario as ours: one staff member,
Monday to Friday 09:00-17:00, 60-minute service, no buffer. Prints one JSON object.

Note: django-appointment's model path (AppointmentRequest + Appointment) performs no overlap check of
its own; the "check" in check-then-create is its slot function, outside any transaction or lock.
"""

from __future__ import annotations

import datetime
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django
from django.conf import settings


def configure(directory: Path) -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        USE_TZ=True,
        TIME_ZONE="UTC",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(directory / "peer.db")}},
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.sites",
            "phonenumber_field",
            "appointment",
        ],
        SITE_ID=1,
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        LOGGING_CONFIG=None,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="peer-"))
    configure(directory)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)  # the app ships no migrations
    from appointment.models import Appointment, AppointmentRequest, Service, StaffMember, WorkingHours
    from appointment.services import get_available_slots_for_staff

    user_model = get_user_model()
    staff_user = user_model.objects.create_user(username="coach", email="coach@example.com", password="x")
    client = user_model.objects.create_user(username="student", email="student@example.com", password="x")
    service = Service.objects.create(name="Session", duration=datetime.timedelta(minutes=60), price=0)
    staff = StaffMember.objects.create(
        user=staff_user, slot_duration=60, lead_time=datetime.time(9), finish_time=datetime.time(17)
    )
    staff.services_offered.add(service)
    for weekday in range(1, 6):  # Monday..Friday, 0 = Sunday as in django-appointment
        WorkingHours.objects.create(
            staff_member=staff, day_of_week=weekday, start_time=datetime.time(9), end_time=datetime.time(17)
        )

    first = datetime.date.today() + datetime.timedelta(days=1)
    days = [first + datetime.timedelta(days=i) for i in range(90)]

    def slots_of(day: datetime.date) -> list[datetime.datetime]:
        return list(get_available_slots_for_staff(day, staff, (day.weekday() + 1) % 7, service))

    for day in days[:5]:
        slots_of(day)  # warm caches, as our server is warmed
    per_day = []
    started = time.perf_counter()
    slot_count = 0
    for day in days:
        t0 = time.perf_counter()
        slot_count += len(slots_of(day))
        per_day.append((time.perf_counter() - t0) * 1000)
    ninety_days_ms = (time.perf_counter() - started) * 1000

    bookings = []
    targets = [(day, hour) for day in days if day.weekday() < 5 for hour in range(9, 17)][:200]
    for day, hour in targets:
        t0 = time.perf_counter()
        if datetime.datetime.combine(day, datetime.time(hour)) not in slots_of(day):  # the "check"
            raise RuntimeError(f"{day} {hour}:00 should be free")
        request = AppointmentRequest.objects.create(
            date=day,
            start_time=datetime.time(hour),
            end_time=datetime.time(hour + 1),
            service=service,
            staff_member=staff,
        )
        Appointment.objects.create(client=client, appointment_request=request, phone="+15551234567")
        bookings.append((time.perf_counter() - t0) * 1000)

    json.dump(
        {
            "peer": "django-appointment",
            "django": django.get_version(),
            "slots_90_days_total_ms": round(ninety_days_ms, 3),
            "slots_per_day_median_ms": round(statistics.median(per_day), 3),
            "slots_listed": slot_count,
            "bookings": len(bookings),
            "booking_median_ms": round(statistics.median(bookings), 3),
            "booking_p95_ms": round(percentile(bookings, 0.95), 3),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
