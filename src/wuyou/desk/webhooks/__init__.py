"""Outgoing webhooks: ticket and incident events posted, signed, to subscribers' URLs."""
