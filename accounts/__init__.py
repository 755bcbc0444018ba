"""Users, roles, the user data key and its wraps, unlock sessions, app passwords."""
