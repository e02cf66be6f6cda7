"""common/storage.py: the local backend and the S3 backend through the real minio client
against moto's S3 server (a protocol-level test; no MinIO can be installed here)."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
from moto.server import ThreadedMotoServer

from careeros_services.common.infra import free_port
from careeros_services.common.storage import LocalStorage, ObjectMissing, S3Storage, check_key, make_storage


@pytest.fixture(scope="module")
def s3():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield make_storage({"backend": "s3", "endpoint": f"127.0.0.1:{port}", "access_key": "test",
                            "secret_key": "testsecret", "bucket": f"lms-{uuid.uuid4().hex[:8]}",
                            "secure": "false", "region": "us-east-1"})
    finally:
        server.stop()


@pytest.fixture
def local(tmp_path):
    return LocalStorage(tmp_path, "bucket", signing_secret="s3cret", public_base_url="http://gw/files")


def _contract(store) -> None:
    key = f"lms/t/{uuid.uuid4()}/notes.txt"
    assert not store.exists(key)
    with pytest.raises(ObjectMissing):
        store.get(key)
    store.put(key, b"hello world", "text/plain")
    assert store.exists(key) and store.size(key) == 11
    assert store.get(key) == b"hello world" and store.get(key, 6, 5) == b"world"
    store.put(key, b"replaced", "text/plain")
    assert store.get(key) == b"replaced"
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting twice is fine


def test_s3_backend_speaks_s3(s3):
    assert isinstance(s3, S3Storage)
    _contract(s3)
    key = "lms/certificates/x.pdf"
    s3.put(key, b"%PDF-1.4 certificate", "application/pdf")
    url = s3.presigned_url(key, 60)
    assert "X-Amz-Signature" in url
    response = requests.get(url, timeout=5)
    assert response.status_code == 200 and response.content == b"%PDF-1.4 certificate"
    # (moto does not check signatures, so a tampered link cannot be tested here; S3/MinIO do.)


def test_local_backend_and_signed_links(local, tmp_path):
    _contract(local)
    local.put("a/b.bin", b"\x00\x01")
    url = local.presigned_url("a/b.bin", 60)
    assert url.startswith("http://gw/files/a/b.bin?expires=")
    query = dict(p.split("=") for p in url.split("?", 1)[1].split("&"))
    assert local.verify("a/b.bin", int(query["expires"]), query["signature"])
    assert not local.verify("a/c.bin", int(query["expires"]), query["signature"])
    assert not local.verify("a/b.bin", int(query["expires"]) + 1, query["signature"])
    assert not local.verify("a/b.bin", int(time.time()) - 1, local._signer.sign("bucket", "a/b.bin",
                                                                               int(time.time()) - 1))
    other = LocalStorage(tmp_path, "bucket", signing_secret="different")
    assert not other.verify("a/b.bin", int(query["expires"]), query["signature"])


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "", "a\\b"])
def test_keys_cannot_escape_the_bucket(local, key):
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        local.put(key, b"x")


def test_make_storage_picks_the_backend(tmp_path):
    assert isinstance(make_storage({"backend": "local", "bucket": "b", "root": str(tmp_path),
                                    "signing_secret": "x"}), LocalStorage)
    with pytest.raises(ValueError):
        make_storage({"backend": "ftp", "bucket": "b"})
    with pytest.raises(ValueError):
        make_storage({"backend": "local", "bucket": "b", "root": str(tmp_path)})  # no signing secret
