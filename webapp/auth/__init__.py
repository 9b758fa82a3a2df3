"""Sign-in: invites, passwords, TOTP, recovery codes, passkeys, sessions, API tokens, roles."""
