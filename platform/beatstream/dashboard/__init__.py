"""The search dashboard: one server-rendered page at `/dashboard` over the public `/v1` API."""
