"""The service-desk domain: org, tickets and their timeline, routing, the outbox."""
