"""Test factories: accounts made through the real services."""

from dataclasses import dataclass

from accounts import services
from accounts.models import User

DEFAULT_PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    user: User
    password: str
    recovery_key: str

    @property
    def username(self) -> str:
        return self.user.username

    def login(self, client) -> dict:
        """Log in through the API; returns the token pair."""
        response = client.post(
            "/api/v1/auth/token", {"username": self.username, "password": self.password}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()


def make_account(username: str = "alice", password: str = DEFAULT_PASSWORD, *, role=User.Role.REGULAR) -> Account:
    user, recovery_key = services.user_register(username=username, email=f"{username}@example.org", password=password)
    if role != User.Role.REGULAR:
        User.objects.filter(pk=user.pk).update(role=role)
        user.refresh_from_db()
    return Account(user=user, password=password, recovery_key=recovery_key)
