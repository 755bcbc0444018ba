"""The activity log is tamper-evident: `manage.py activity_verify` finds an edited, deleted, inserted or reordered
row and a chain cut back, and passes an intact log, also after the owner's account is deleted."""

import io

import pytest
from django.core.management import CommandError, call_command

from activity.models import ChainAnchor, ChainHead, Event
from activity.services import event_record
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def verify() -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("activity_verify", stdout=out, stderr=err)
    except CommandError:
        return err.getvalue()
    assert "intact" in out.getvalue()
    return ""


@pytest.fixture
def log(db):
    account = make_account("logged")  # registration writes the first event
    for n in range(5):
        event_record(action="file.uploaded", user=account.user, object_type="file", object_id=f"id-{n}", data={"n": n})
    event_record(action="auth.login", outcome="failure", data={"reason": "unknown_user"})  # a chain with no user
    call_command("activity_anchor", stdout=io.StringIO())
    return account


def chain_of(account):
    return list(Event.objects.filter(user_key=str(account.user.pk)).order_by("seq"))


def test_an_intact_log_verifies_and_each_user_has_a_chain(log):
    assert verify() == ""
    events = chain_of(log)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:], strict=False))
    assert ChainHead.objects.get(user_key="").seq == 1


def test_an_edited_row_is_found(log):
    target = chain_of(log)[3]
    Event.objects.filter(pk=target.pk).update(data={"n": 999})
    assert f"event {target.pk}" in verify() and "edited" in verify()


def test_a_deleted_row_is_found(log):
    target = chain_of(log)[2]
    Event.objects.filter(pk=target.pk).delete()
    assert "deleted, inserted or moved" in verify()


def test_an_inserted_row_is_found(log):
    events = chain_of(log)
    forged = Event.objects.create(
        user=log.user, user_key=str(log.user.pk), action="file.uploaded", seq=3, prev_hash=events[1].hash, hash="0" * 64
    )
    assert forged.pk and verify() != ""


def test_reordered_rows_are_found(log):
    first, second = chain_of(log)[2:4]
    Event.objects.filter(pk=first.pk).update(seq=second.seq)
    Event.objects.filter(pk=second.pk).update(seq=first.seq)
    assert "does not follow" in verify()


def test_a_chain_cut_back_is_found_by_its_head_and_the_anchor(log):
    last = chain_of(log)[-1]
    Event.objects.filter(pk=last.pk).delete()
    assert "cut back" in verify()
    ChainHead.objects.filter(user_key=str(log.user.pk)).update(seq=last.seq - 1, hash=chain_of(log)[-1].hash)
    assert "not what it was when anchored" in verify()  # hiding it in the head too: the anchor still knows


def test_an_edited_anchor_is_found(log):
    ChainAnchor.objects.update(digest="0" * 64)
    assert "anchor" in verify()


def test_deleting_the_account_keeps_its_chain_verifiable(log):
    from accounts import services

    key = str(log.user.pk)
    services.account_delete(user=log.user, password=log.password)
    assert Event.objects.filter(user_key=key, user__isnull=True).count() > 5
    assert verify() == ""
