"""Personal exports built in the background: job, progress, notification, download, deletion, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import make_account
from tests.vault.test_backup import login
from tests.vault.test_export_zip import PASSPHRASE, extract

pytestmark = pytest.mark.django_db(transaction=True)


def finished(api, job_id) -> dict:
    from vault.export import jobs

    for thread in list(jobs._THREADS):
        thread.join(timeout=60)
    return api.get(f"/api/v1/me/exports/{job_id}/").json()


def test_a_background_export_is_built_announced_downloaded_and_deleted(tmp_path, blob_dir):
    alice = login(make_account("alice"))
    files = [SimpleUploadedFile("plan.txt", b"the plan"), SimpleUploadedFile("big.bin", b"\x01" * 300_000)]
    alice.post("/api/v1/files/", {"file": files}, format="multipart")
    before = {p for p in blob_dir.rglob("*") if p.is_file()}
    started = alice.post("/api/v1/me/export", {"passphrase": PASSPHRASE, "background": True}, format="json")
    assert started.status_code == 202, started.content
    job = started.json()
    assert job["status"] in ("running", "ready") and job["total_bytes"] == 300_008

    done = finished(alice, job["id"])
    assert done["status"] == "ready" and done["done_bytes"] == done["total_bytes"]
    assert done["content_url"] == f"/api/v1/me/exports/{job['id']}/content"
    stored = {p for p in blob_dir.rglob("*") if p.is_file()} - before
    assert len(stored) == 1 and b"plan.txt" not in stored.pop().read_bytes()  # at rest even the zip's names are sealed

    notes = alice.get("/api/v1/notifications/").json()["results"]
    ready = [n for n in notes if n["kind"] == "export.ready"]
    assert ready and ready[0]["summary"].startswith("Your export is ready")

    response = alice.get(done["content_url"])
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    assert len(data) == done["size"]
    opened = extract(data, tmp_path)
    assert opened.returncode == 0, opened.stderr
    assert (tmp_path / "out" / "Files" / "plan.txt").read_bytes() == b"the plan"

    bob = login(make_account("bob"))
    for path in (f"/api/v1/me/exports/{job['id']}/", done["content_url"]):
        assert bob.get(path).status_code == 404
    assert bob.delete(f"/api/v1/me/exports/{job['id']}/").status_code == 404
    assert bob.get("/api/v1/me/exports/").json()["results"] == []

    assert alice.delete(f"/api/v1/me/exports/{job['id']}/").status_code == 204
    assert {p for p in blob_dir.rglob("*") if p.is_file()} == before
    assert alice.get(f"/api/v1/me/exports/{job['id']}/").status_code == 404


def test_expired_exports_go_and_a_job_whose_server_stopped_shows_as_failed(blob_dir):
    from django.core.management import call_command

    from vault.models import ExportJob

    account = make_account("alice")
    alice = login(account)
    alice.post("/api/v1/files/", {"file": [SimpleUploadedFile("a.txt", b"a")]})
    job = alice.post("/api/v1/me/export", {"passphrase": PASSPHRASE, "background": True}, format="json").json()
    assert finished(alice, job["id"])["status"] == "ready"
    ExportJob.objects.filter(pk=job["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    import io

    out = io.StringIO()
    call_command("vault_purge_trash", stdout=out)
    assert "Deleted 1 expired export" in out.getvalue()
    assert not ExportJob.objects.exists() and len([p for p in blob_dir.rglob("*") if p.is_file()]) == 1

    stuck = ExportJob.objects.create(owner=account.user, expires_at=timezone.now() + timedelta(hours=1))
    ExportJob.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    listed = alice.get("/api/v1/me/exports/").json()["results"]
    assert listed[0]["status"] == "failed" and "start it again" in listed[0]["error"]
    assert alice.get(f"/api/v1/me/exports/{stuck.pk}/content").status_code == 404
