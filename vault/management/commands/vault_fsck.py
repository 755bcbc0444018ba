"""Report (and by default remove) orphan blobs; report versions whose blob is missing."""

from django.core.management.base import BaseCommand

from vault.transfers.blobs import release_held_deletions
from vault.transfers.fsck import vault_fsck


class Command(BaseCommand):
    help = "Check blob storage against the database: remove orphan blobs, report rows whose blob is missing."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only report; remove nothing.")
        parser.add_argument(
            "--min-age", type=int, default=3600, help="Leave files younger than this many seconds (uploads in flight)."
        )

    def handle(self, *args, dry_run=False, min_age=3600, **options):
        if not dry_run:
            released = release_held_deletions()  # deletions a crashed backup left waiting (docs/backup.md)
            if released:
                self.stdout.write(f"carried out {released} blob deletion(s) held by an earlier backup")
        report = vault_fsck(remove=not dry_run, min_age_seconds=min_age)
        for name in report.orphans:
            self.stdout.write(f"orphan blob{' (removed)' if name in report.removed else ''}: {name}")
        for version_id in report.missing:
            self.stdout.write(self.style.ERROR(f"missing blob for version {version_id}"))
        if report.clean:
            self.stdout.write(self.style.SUCCESS("vault is consistent"))
        else:
            self.stdout.write(
                f"{len(report.orphans)} orphan(s), {len(report.removed)} removed, {len(report.missing)} missing"
            )
        if report.missing:
            raise SystemExit(1)
