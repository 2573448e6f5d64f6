"""Billing: plans, subscriptions, rentals and purchases; what a household has paid for.

Knows titles and users only by id. Payment gateways come later; subscriptions are
granted through the admin API and the CLI.
"""
