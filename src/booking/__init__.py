"""Booking service for 1:1 coaching sessions."""
