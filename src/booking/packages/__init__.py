"""Packages of sessions a brand sells, and the passes students buy and spend (SPEC §17)."""
