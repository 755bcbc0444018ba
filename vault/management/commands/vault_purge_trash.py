"""Purge trash entries older than LOCKER_TRASH_DAYS (crypto-shred: keys first, then blobs), expired exports and
expired resumable uploads (their bytes and the room they held)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from vault.export.jobs import export_jobs_expire
from vault.transfers.tus.services import uploads_expire
from vault.trash.services import trash_purge_expired


class Command(BaseCommand):
    help = "Purge trash entries older than --days (default LOCKER_TRASH_DAYS, 30). Safe to run from cron."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days=None, **options):
        days = settings.LOCKER_TRASH_DAYS if days is None else days
        count = trash_purge_expired(days=days)
        self.stdout.write(f"Purged {count} trash entr{'y' if count == 1 else 'ies'} older than {days} days.")
        exports = export_jobs_expire()
        if exports:
            self.stdout.write(f"Deleted {exports} expired export(s).")
        uploads = uploads_expire()
        if uploads:
            self.stdout.write(f"Removed {uploads} expired upload(s).")
