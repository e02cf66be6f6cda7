"""lms fixtures: the service's real test database (migrated and seeded) and local object storage."""
from __future__ import annotations

import pytest

from careeros_services.common.storage import LocalStorage
from careeros_services.lms.service import LmsService
from careeros_services.lms.settings import Settings


@pytest.fixture(scope="session")
def lms_store(fresh_store):
    return fresh_store("lms")


@pytest.fixture(scope="session")
def storage(tmp_path_factory):
    return LocalStorage(tmp_path_factory.mktemp("objects"), "careeros-lms", signing_secret="test-secret",
                        public_base_url="http://gw/api/v1/lms/files")


@pytest.fixture(scope="session")
def svc(lms_store, storage) -> LmsService:
    return LmsService(lms_store, storage, Settings(max_upload_bytes=1024 * 1024,
                                                   certificate_verify_base_url="http://web/certificates"))
