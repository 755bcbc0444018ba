"""``manage.py activity_anchor``: record a digest over every chain's head (run it periodically, e.g. from cron,
and keep its output somewhere the server cannot write)."""

from django.core.management.base import BaseCommand

from activity import chain


class Command(BaseCommand):
    help = "Anchor the activity log: a digest over every chain's head, printed and stored."

    def handle(self, *args, **options):
        anchor = chain.anchor()
        self.stdout.write(f"anchor {anchor.pk} {anchor.created_at.isoformat()} {anchor.digest}")
