"""Admin screens: the vendor's users and invites, and its audit log."""
