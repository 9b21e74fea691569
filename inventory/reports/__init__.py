"""Site inventory reports and the district view, from summary tables kept with each event."""
