"""REST APIs under /api/v1/: parse input, call one command, respond."""
