"""Rebuild one user's search and tag indexes. Needs that user's password (their data key is never stored)."""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import keyring_unlock
from locker.errors import LockerError
from vault.derived import ocr
from vault.keys import VaultKeys
from vault.search.reindex import vault_reindex


class Command(BaseCommand):
    help = "Rebuild a user's blind indexes (search, tags). Asks for the user's password; --password-stdin reads it."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username.")
        parser.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")
        parser.add_argument(
            "--ocr-again",
            action="store_true",
            help="Recognise the text of images and PDFs read before again (after installing a language).",
        )

    def handle(self, *args, user, password_stdin=False, ocr_again=False, **options):
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

        keys = VaultKeys(account.pk, udk)
        counts = vault_reindex(user=account, keys=keys, progress=progress)
        summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Re-indexed {summary}."))
        self._recognise(account, keys, again=ocr_again)

    def _recognise(self, account, keys, *, again: bool) -> None:
        """Text recognition of what it has not read (or, ``again``, of everything), here and now."""
        if not account.vault_ocr:
            self.stdout.write("Text recognition is off for this user: images and scanned PDFs were not read.")
            return
        if not ocr.user_languages(account):
            self.stdout.write(f"Text recognition is unavailable: {ocr.UNAVAILABLE}")
            return
        ocr.mark_pending(account, again=again)

        def progress(done, total):
            self.stdout.write(f"  text recognition {done}/{total}")

        states = ocr.run_pending(account, keys, progress=progress)
        if states:
            summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
            self.stdout.write(self.style.SUCCESS(f"Text recognition: {summary}."))
        else:
            self.stdout.write("Text recognition: nothing to read.")
