"""Chat notifications: :mod:`.service` delivers the status updates responders post to Slack,
Teams or a generic webhook, marked [DRILL], and journals each delivery."""
