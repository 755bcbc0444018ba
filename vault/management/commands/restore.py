"""``manage.py restore ARCHIVE``: an instance archive into this (empty) instance, in one transaction."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from vault.backup.format import BackupError
from vault.backup.read import backup_restore, instance_contents, instance_is_empty, read_archive


class Command(BaseCommand):
    help = "Restore a backup archive into this instance (empty, or emptied first with --force)."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The archive, or '-' for standard input.")
        parser.add_argument("--passphrase-file", help="The passphrase of an encrypted archive (first line).")
        parser.add_argument(
            "--force", action="store_true", help="Delete everything this instance holds first (asks to confirm)."
        )
        parser.add_argument("--yes", action="store_true", help="With --force: do not ask.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args, archive, passphrase_file=None, force=False, yes=False, no_progress=False, **options):
        call_command("migrate", interactive=False, verbosity=0)  # a fresh instance gets its tables
        if not instance_is_empty():
            if not force:
                raise CommandError(
                    "This instance already has accounts: restore into an empty one, or use --force to delete "
                    "everything here first."
                )
            held = instance_contents()
            self.stdout.write("A forced restore deletes everything this instance holds:")
            for label, count in held.items():
                self.stdout.write(f"  {count:,} {label}")
            if not yes:
                if archive == "-":
                    raise CommandError("Reading the archive from standard input: confirm with --yes.")
                answer = input("Type 'delete' to go on: ")
                if answer.strip() != "delete":
                    raise CommandError("Nothing was changed.")
        try:
            report = read_archive(
                archive, passphrase_file=passphrase_file, quiet=no_progress, run=backup_restore, force=force
            )
        except (BackupError, OSError) as exc:
            raise CommandError(f"Nothing was restored: {exc}") from None
        rows = sum(report.counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {rows:,} rows and {report.blobs:,} blobs ({report.blob_bytes / 2**20:,.1f} MiB). "
                "Users sign in with their passwords; their earlier sessions have ended."
            )
        )
