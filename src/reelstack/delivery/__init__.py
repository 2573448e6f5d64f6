"""Delivery: serving packaged media (``router``) and the URLs players get (``urls``)."""

from reelstack.delivery.router import router

__all__ = ["router"]
