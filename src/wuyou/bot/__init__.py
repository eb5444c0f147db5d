"""The platform-neutral conversation engine: `Inbound` in, state changes, `Outbound` out."""
