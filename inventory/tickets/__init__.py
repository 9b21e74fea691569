"""Support tickets: problems reported at any site, prioritized and assigned to technicians."""
