"""Delivery: serving packaged media (``router``), the URLs players get (``urls``,
``signing``), the edge tier (``edge``) and the delivery networks (``cdns``)."""

from reelstack.delivery.router import cdn_admin_router, router

__all__ = ["cdn_admin_router", "router"]
