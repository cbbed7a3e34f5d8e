"""Helpers shared by the blueprints' views (the HTTP side only): no blueprint imports another's
views; what several of them need lives here."""
