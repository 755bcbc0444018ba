"""``manage.py activity_verify``: recompute every chain of the activity log and say where it is broken."""

from django.core.management.base import BaseCommand, CommandError

from activity import chain
from activity.models import ChainAnchor, Event


class Command(BaseCommand):
    help = "Check the activity log's hash chains and anchors; exit 1 naming the first broken link of each chain."

    def handle(self, *args, **options):
        problems = list(chain.verify())
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The activity log was changed: {len(problems)} problem(s) found.")
        events, anchors = Event.objects.count(), ChainAnchor.objects.count()
        self.stdout.write(f"The activity log is intact: {events} events, {anchors} anchors checked.")
