"""``bus.privacy``'s mixin with this platform's privacy bucket: what service layers inherit."""
from __future__ import annotations

from bus import privacy
from careeros_services.common.storage import ObjectStorage, privacy_storage


class PersonalDataOwner(privacy.PersonalDataOwner):
    """Answers auth's export and erasure requests (see :mod:`bus.privacy`); exports go to the
    ``privacy.storage`` bucket of ``privacy_config`` (None: this process's configuration)."""

    def privacy_storage(self) -> ObjectStorage:
        return privacy_storage(self.privacy_config)
