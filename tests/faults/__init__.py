"""Fault tests (issue 8): a cluster of 2 API processes and 2 workers on a private PostgreSQL and Redis, a storm of
dialogues through the HTTP channel and the WeChat webhook, and a crash in the middle of it; afterwards every
acknowledged message must have had exactly its effect. `bench/faults.py` runs the same with bigger numbers."""
