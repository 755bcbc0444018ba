"""A burst of sign-ins takes bounded memory: every Argon2 computation in a process (the key derivation and Django's
password hash) waits for one of ``LOCKER_ARGON2_CONCURRENCY`` slots, since each holds 64-100 MiB while it runs."""

import os
import threading
import time

import pytest
from django.conf import settings
from django.contrib.auth import hashers

from accounts.passwords import Argon2PasswordHasher
from locker.crypto import kdf
from tests.hashers import FastArgon2PasswordHasher


class Tracker:
    def __init__(self):
        self.now = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, result):
        def run(*args, **kwargs):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            time.sleep(0.05)
            with self.lock:
                self.now -= 1
            return result(*args, **kwargs) if callable(result) else result

        return run


def together(count, work):
    start = threading.Barrier(count)

    def one():
        start.wait()
        work()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture
def two_slots():
    kdf.set_argon2_concurrency(2)
    yield
    kdf.set_argon2_concurrency(settings.LOCKER_ARGON2_CONCURRENCY)


def test_key_derivations_wait_for_a_slot(two_slots, monkeypatch):
    tracker = Tracker()
    monkeypatch.setattr(kdf, "hash_secret_raw", tracker(b"k" * 32))
    params = kdf.Argon2Params(1024, 1, 1)
    together(8, lambda: kdf.argon2id(b"password", os.urandom(16), params))
    assert tracker.most == 2


def test_password_hashes_and_checks_wait_for_the_same_slots(two_slots, monkeypatch):
    tracker = Tracker()
    parent = hashers.Argon2PasswordHasher
    monkeypatch.setattr(parent, "encode", tracker(parent.encode))
    monkeypatch.setattr(parent, "verify", tracker(parent.verify))
    monkeypatch.setattr(kdf, "hash_secret_raw", tracker(b"k" * 32))
    hasher = FastArgon2PasswordHasher()
    stored = hasher.encode("a long password", hasher.salt())
    params = kdf.Argon2Params(1024, 1, 1)
    jobs = [
        lambda: hasher.verify("a long password", stored),
        lambda: hasher.encode("another password", hasher.salt()),
        lambda: kdf.argon2id(b"password", os.urandom(16), params),
    ]
    counter = iter(range(9))
    together(9, lambda: jobs[next(counter) % 3]())
    assert tracker.most == 2


def test_the_settings_hasher_is_the_bounded_one():
    from locker import settings as production

    assert production.PASSWORD_HASHERS[0] == "accounts.passwords.Argon2PasswordHasher"
    assert Argon2PasswordHasher.algorithm == "argon2"  # hashes stored before still verify
    assert issubclass(FastArgon2PasswordHasher, Argon2PasswordHasher)  # the tests' cheap one too


def test_at_least_one_slot():
    with pytest.raises(ValueError):
        kdf.set_argon2_concurrency(0)
