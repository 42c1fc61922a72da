"""Checkout: a student pays a booking online through Stripe Checkout; Stripe's webhook and the return
to the booking page settle it through the bookings room's one payment path; the worker refunds and
closes sessions."""
