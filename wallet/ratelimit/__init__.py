"""Rate limits that hold across app processes: each key's budget lives in the database."""
