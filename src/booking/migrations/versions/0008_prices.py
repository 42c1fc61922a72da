"""Prices: the brand's currency, an instructor's price and refund share per brand, and on each booking the
price fixed when it was made and what was paid and refunded.

Revision ID: 0008
Revises: 0007
Create Date: 2027-03-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTINGS = "instructor_scheduling_settings"


def upgrade() -> None:
    # ISO 4217, lower case, as Stripe writes it.
    op.add_column("brands", sa.Column("currency", sa.String(3), nullable=False, server_default="usd"))
    # In the currency's smallest unit (cents; yen); NULL: no price.
    op.add_column(SETTINGS, sa.Column("price_amount", sa.BigInteger(), nullable=True))
    op.add_column(
        SETTINGS, sa.Column("refund_percent", sa.SmallInteger(), nullable=False, server_default="100")
    )
    # Fixed when the booking is made: a later price change or a reschedule leaves them as they are.
    op.add_column("bookings", sa.Column("price_amount", sa.BigInteger(), nullable=True))
    op.add_column("bookings", sa.Column("price_currency", sa.String(3), nullable=True))
    op.add_column("bookings", sa.Column("refund_percent", sa.SmallInteger(), nullable=True))
    op.add_column("bookings", sa.Column("payment_provider", sa.String(16), nullable=True))
    op.add_column("bookings", sa.Column("amount_paid", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column(
        "bookings", sa.Column("amount_refunded", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.add_column("bookings", sa.Column("refund_status", sa.String(16), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (PostgreSQL; SQLite 3.35+): a batch copy of bookings would lose its triggers.
    for column in (
        "refund_status",
        "amount_refunded",
        "amount_paid",
        "payment_provider",
        "refund_percent",
        "price_currency",
        "price_amount",
    ):
        op.drop_column("bookings", column)
    op.drop_column(SETTINGS, "refund_percent")
    op.drop_column(SETTINGS, "price_amount")
    op.drop_column("brands", "currency")
