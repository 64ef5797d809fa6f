"""Shared vocabulary of the intercept tests: a BOTW key and listing, and its real URL."""

BOTW = "https://api.botw.org/crm/123"
AUTH = {"Authorization": "Bearer KEY"}
STATE = {"botw": {"api_keys": {"KEY": ["123"]}}}
