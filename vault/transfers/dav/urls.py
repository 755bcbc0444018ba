"""``/dav`` and everything below it, every method (mounted in ``locker/urls.py``)."""

from django.urls import re_path

from vault.transfers.dav.views import dav_view

urlpatterns = [re_path(r"^(?P<path>/.*)?$", dav_view, name="dav")]
