"""Housekeeping: delete expired unlock sessions and expired outstanding/blacklisted refresh tokens."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.sessions import unlock_session_purge_expired


class Command(BaseCommand):
    help = "Delete expired unlock sessions and expired refresh-token records. Safe to run from cron."

    def handle(self, *args, **options):
        sessions = unlock_session_purge_expired()
        tokens, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
        self.stdout.write(f"Deleted {sessions} expired unlock session(s) and {tokens} expired token record(s).")
