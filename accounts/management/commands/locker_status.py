"""Print where Locker keeps its data and, when there is no admin yet, how to create one."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from accounts.selectors import admin_exists


class Command(BaseCommand):
    help = "Show the data directory and database, and how to create the first admin."

    def handle(self, *args, **options):
        db = settings.DATABASES["default"]
        where = db["NAME"] if connection.vendor == "sqlite" else f"{connection.vendor} {db.get('NAME')}"
        self.stdout.write(f"Locker data directory: {settings.LOCKER_DATA_DIR}")
        self.stdout.write(f"Database: {where}")
        if not admin_exists():
            self.stdout.write(
                self.style.WARNING(
                    "No admin account yet. Create one with:\n"
                    "    .venv/bin/python manage.py createsuperuser\n"
                    "(it gets the Admin role; its vault keys are made at its first sign-in)."
                )
            )
