"""A cheap Argon2 password hasher for tests only (same algorithm, lower cost)."""

from accounts.passwords import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
