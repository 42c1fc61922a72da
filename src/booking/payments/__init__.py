"""Payments: Stripe behind a small protocol, the Checkout Sessions and payment tasks of bookings, and
the check of Stripe's webhook signatures. Knows no booking rule: the bookings room decides."""
