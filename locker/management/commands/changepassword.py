"""``manage.py changepassword``: replaces Django's (this app comes before ``django.contrib.auth``), which changed
only the password hash and left the user's data key wrapped by the old password. It runs accounts'
``password_change`` command, which keeps the data readable (see there); called by name, as Django finds commands,
so the project layer imports nothing above it."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Change a user's password, keeping their data (the same as manage.py password_change)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="The user; your own login name when left out.")

    def handle(self, *args, username=None, **options):
        call_command("password_change", *([username] if username else []), stdout=self.stdout, stderr=self.stderr)
