"""Pages for the people on the attendee list (registration: issue 4; materials: issue 6)."""
