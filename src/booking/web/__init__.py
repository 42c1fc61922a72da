"""The booking page (SPEC §14): HTML, CSS and ES modules served by the service, using the public API."""
