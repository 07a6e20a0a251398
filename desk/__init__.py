"""The service desk: conversations that persist, the handoff queue to human agents, their records, staff
logins and rate limits, on one SQL database (SQLite or PostgreSQL)."""
