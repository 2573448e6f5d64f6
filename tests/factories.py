"""Row factories, one module per domain (``tests/<domain>/factories.py``).

Import from the domain's module in new tests; these names stay for older imports.
"""

from __future__ import annotations

from tests.assets.factories import make_asset
from tests.catalog.factories import make_title_with_asset

__all__ = ["make_asset", "make_title_with_asset"]
