"""The pure domain model: scenario, policy, events, scorecard. Imports nothing else of gameday."""
