"""Browser sessions in the database under a hash of their key (``SESSION_ENGINE``).

Django's database sessions keep each session under its cookie's value, so a copy of ``django_session`` was
enough to act as any browser signed in at that moment. Here the row is keyed by a one-way hash of
the cookie's value (BLAKE2b, 160 bits: the key itself has about 190 random bits), and only the browser holds the
value: a copy of the table names no session that can be presented. Everything else is Django's own store.
"""

from __future__ import annotations

import hashlib

from django.contrib.sessions.backends import db
from django.utils import timezone


def stored_key(session_key: str) -> str:
    """The row key of a session: 40 hex characters, the width of ``django_session.session_key``."""
    return hashlib.blake2b(session_key.encode(), digest_size=20, person=b"locker-session").hexdigest()


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        try:
            return self.model.objects.get(session_key=stored_key(self.session_key), expire_date__gt=timezone.now())
        except self.model.DoesNotExist:
            self._session_key = None
            return None

    def exists(self, session_key):
        return self.model.objects.filter(session_key=stored_key(session_key)).exists()

    def create_model_instance(self, data):
        row = super().create_model_instance(data)
        row.session_key = stored_key(row.session_key)
        return row

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self.model.objects.filter(session_key=stored_key(session_key)).delete()
