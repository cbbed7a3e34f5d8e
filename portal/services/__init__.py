"""The portal's rules, free of Flask request state."""
