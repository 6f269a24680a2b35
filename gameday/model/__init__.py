"""The pure domain model: scenario (with its load, monitoring and notify sections), policy, events,
alerts and their matching, CPU placement settings, scorecard. Imports nothing else of gameday."""
