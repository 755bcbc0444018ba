"""``manage.py backup_verify ARCHIVE``: check an instance archive's structure and every checksum, restore nothing."""

from django.core.management.base import BaseCommand, CommandError

from vault.backup.format import BackupError
from vault.backup.read import backup_verify, read_archive


class Command(BaseCommand):
    help = "Check a backup archive (structure, every member's checksum, every blob its rows name) without restoring."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The archive, or '-' for standard input.")
        parser.add_argument("--passphrase-file", help="The passphrase of an encrypted archive (first line).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args, archive, passphrase_file=None, no_progress=False, **options):
        try:
            report = read_archive(archive, passphrase_file=passphrase_file, quiet=no_progress, run=backup_verify)
        except (BackupError, OSError) as exc:
            raise CommandError(f"The archive is not sound: {exc}") from None
        rows = sum(report.counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"The archive is sound: {rows:,} rows and {report.blobs:,} blobs "
                f"({report.blob_bytes / 2**20:,.1f} MiB), written by Locker {report.header.get('app_version')}."
            )
        )
