"""Major incidents: surge offers, declaring, on-call paging, the war-room timeline, broadcasts, the report."""
