"""The real OpenID Connect provider the SSO tests sign in with: oidc-provider-mock
(Authlib's server behind Flask, on a loopback port; no code of ours).

It still calls Authlib APIs that Authlib now flags as deprecated; those warnings come
from its import (silenced here) and from its request threads (``PROVIDER_WARNINGS``:
apply them as ``pytestmark`` in a module that starts it)."""

from __future__ import annotations

import warnings

import pytest

PROVIDER_WARNINGS = [
    pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning"),
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),
]

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from oidc_provider_mock import User, run_server_in_thread

__all__ = ["PROVIDER_WARNINGS", "User", "run_server_in_thread"]
