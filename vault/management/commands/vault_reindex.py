"""Rebuild one user's search and tag indexes. Needs that user's password (their data key is never stored)."""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import keyring_unlock
from locker.errors import LockerError
from vault.keys import VaultKeys
from vault.search.reindex import vault_reindex


class Command(BaseCommand):
    help = "Rebuild a user's blind indexes (search, tags). Asks for the user's password; --password-stdin reads it."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username.")
        parser.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")

    def handle(self, *args, user, password_stdin=False, **options):
        account = User.objects.filter(username__iexact=user).first()
        if account is None:
            raise CommandError(f"No user named {user!r}.")
        password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass(f"Password of {account}: ")
        try:
            udk = keyring_unlock(user=account, password=password)
        except LockerError as exc:
            raise CommandError(exc.detail) from None

        def progress(kind, done, total):
            self.stdout.write(f"  {done}/{total} items")

        counts = vault_reindex(user=account, keys=VaultKeys(account.pk, udk), progress=progress)
        summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Re-indexed {summary}."))
