"""The edge's purge poller: reads the API's purge feed (``GET /v1/admin/edge/purges``)
and turns it into the maps the edge config includes (reelstack.delivery.edge), then has
nginx reload them. Its state (the last record applied, each asset's generation, the
revoked assets) is kept in the edge's prefix, so a restarted edge resumes."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reelstack.delivery.edge import PURGES_NAME, render_purges

STATE_NAME = "purges.json"


@dataclass
class PurgeState:
    last_seq: int = 0
    generations: dict[str, int] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, prefix: Path) -> PurgeState:
        path = prefix / STATE_NAME
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            last_seq=int(raw["last_seq"]),
            generations={str(k): int(v) for k, v in raw["generations"].items()},
            revoked={str(a) for a in raw["revoked"]},
        )

    def apply(self, items: list[dict[str, Any]]) -> bool:
        """Apply feed records in order; whether the maps changed."""
        changed = False
        for item in items:
            asset, action, seq = str(item["asset_id"]), str(item["action"]), int(item["seq"])
            if seq <= self.last_seq:
                continue
            if action == "revoke":
                self.revoked.add(asset)
            # A revocation also drops the cached copies.
            self.generations[asset] = self.generations.get(asset, 0) + 1
            changed = True
            self.last_seq = seq
        return changed

    def save(self, prefix: Path) -> None:
        """Write the maps and the state, each atomically (the maps first: a crash in
        between re-applies records, which only bumps generations again)."""
        _replace(prefix / PURGES_NAME, render_purges(self.generations, self.revoked))
        state = {
            "last_seq": self.last_seq,
            "generations": self.generations,
            "revoked": sorted(self.revoked),
        }
        _replace(prefix / STATE_NAME, json.dumps(state))


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def poll_once(*, client: httpx.Client, api_url: str, api_key: str, state: PurgeState) -> bool:
    """Fetch every record after the state's last one; whether the maps changed.
    ``httpx.HTTPError`` when the API cannot be read (the caller retries)."""
    changed = False
    while True:
        resp = client.get(
            f"{api_url.rstrip('/')}/v1/admin/edge/purges",
            params={"after": state.last_seq},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        resp.raise_for_status()
        page = resp.json()
        if not page["items"]:
            return changed
        changed |= state.apply(page["items"])
