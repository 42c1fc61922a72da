"""Calendars (SPEC §13): the instructor feed, and busy time imported from the instructor's own calendars."""
