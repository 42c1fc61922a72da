"""Webhooks (SPEC §12): brand-scoped endpoints, and the delivery of events to them."""
