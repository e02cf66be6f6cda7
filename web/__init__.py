"""CareerOS web client: server-rendered pages over the public REST API (a backend-for-frontend)."""
