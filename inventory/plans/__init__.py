"""The itinerant support model: rate cards, service plans, schedules, visits and reports."""
