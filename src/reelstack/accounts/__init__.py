"""Accounts: users (households), credentials, login sessions and tokens, profiles,
devices, roles and signing keys."""
