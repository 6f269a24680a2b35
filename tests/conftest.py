"""Suite-wide fixtures.

``need("prometheus")`` returns a system binary's path, or skips the test with the reason
when the machine lacks it — except in CI (``GAMEDAY_REQUIRE_ALL=1``, set by .ci/run, which
installs every part), where a missing part fails the test instead of hiding it.
"""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture
def need():
    def require(binary: str) -> str:
        path = shutil.which(binary)
        if path:
            return path
        reason = f"{binary} is not installed (apt-get install it; .ci/run does)"
        if os.environ.get("GAMEDAY_REQUIRE_ALL"):
            pytest.fail(reason)
        pytest.skip(reason)

    return require
