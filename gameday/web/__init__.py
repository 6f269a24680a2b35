"""The web parts: the HTTP server that carries the detection intake (and the control room)."""
