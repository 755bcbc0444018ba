"""WSGI entry point (gunicorn locker.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "locker.settings")

application = get_wsgi_application()
