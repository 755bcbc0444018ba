"""``manage.py password_change USERNAME`` (and ``manage.py changepassword``, which runs it): Locker's password
change, asking for the current password.

Django's own ``changepassword`` sets a new password hash and nothing else; in Locker the password also wraps the
user's data key, so that left the account unable to open its own data ("keyring mismatch"). The ``locker`` app,
first in ``INSTALLED_APPS``, replaces that command with one that runs this. It asks for the current password and
the new one twice, and runs the same service as the settings page: the data key is re-wrapped, every session
ends, the change is logged. Without the current password there is no way to keep the data: the user's recovery
key (``/recover``) or an admin's reset (which empties the vault) are the ways out, and the error says so.
"""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import password_change
from locker.errors import LockerError

TRIES = 3


class Command(BaseCommand):
    help = "Change a user's password, keeping their data: asks for the current password and the new one."
    requires_migrations_checks = True

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="The user; your own login name when left out.")

    def handle(self, *args, username=None, **options):
        username = username or getpass.getuser()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        self.stdout.write(f"Changing the password of {username}. Their data stays readable: it needs the current one.")
        for _ in range(TRIES):
            current = getpass.getpass("Current password: ")
            new = getpass.getpass("New password: ")
            if new != getpass.getpass("New password (again): "):
                self.stderr.write("The new passwords differ. Try again.")
                continue
            try:
                password_change(user=user, old_password=current, new_password=new)
            except LockerError as problem:
                reasons = [m for messages in (problem.errors or {}).values() for m in messages] or [problem.detail]
                self.stderr.write(" ".join(str(reason) for reason in reasons))
                continue
            self.stdout.write(f"Password changed for {username}; every session of theirs has ended.")
            return
        raise CommandError(
            f"Password not changed after {TRIES} tries. Without the current password the data cannot be kept: the "
            "user can use their recovery key at /recover, or an admin can reset the account (its vault is emptied)."
        )
