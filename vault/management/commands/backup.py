"""``manage.py backup OUT``: the whole instance (rows and encrypted blobs) as one archive (docs/backup.md)."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from vault.backup.format import BackupError, read_passphrase
from vault.backup.progress import progress_bars
from vault.backup.write import backup_write
from vault.transfers.blobs import WritebackFile


class Command(BaseCommand):
    help = "Write the whole instance (every row, every blob as stored) to one archive; '-' writes to standard output."

    def add_arguments(self, parser):
        parser.add_argument("out", help="The archive to write (refused if it exists), or '-' for standard output.")
        parser.add_argument(
            "--passphrase-file", help="Encrypt the archive with the passphrase on this file's first line ('-': stdin)."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args, out, passphrase_file=None, no_progress=False, **options):
        try:
            passphrase = read_passphrase(passphrase_file) if passphrase_file else None
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        if out == "-":
            if passphrase_file == "-":
                raise CommandError("Standard input gives the passphrase or nothing: write the archive to a file.")
            with progress_bars(quiet=no_progress) as bars:
                manifest = backup_write(sys.stdout.buffer, passphrase=passphrase, bars=bars)
            self.stderr.write(_summary(manifest))
            return
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"{out} exists: choose another name (a backup never overwrites a file).") from None
        try:
            with os.fdopen(fd, "wb") as handle, progress_bars(quiet=no_progress) as bars:
                # the archive goes to disk while it is written, so the fsync at the end has little left to do
                manifest = backup_write(WritebackFile(handle), passphrase=passphrase, bars=bars)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            os.unlink(out)
            raise
        self.stdout.write(self.style.SUCCESS(_summary(manifest) + f" Written to {out}."))


def _summary(manifest) -> str:
    rows = sum(manifest["counts"].values())
    return f"Backed up {rows:,} rows and {manifest['blobs']:,} blobs ({manifest['blob_bytes'] / 2**20:,.1f} MiB)."
