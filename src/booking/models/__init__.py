"""The tables, one module per room (`base` holds what they share). The schema itself is created by
the Alembic history in `migrations/`; `booking.models.schema` imports every table for it."""
