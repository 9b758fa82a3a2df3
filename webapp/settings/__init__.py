"""Settings: language and the signed-in user's own password, factors, sessions and tokens."""
