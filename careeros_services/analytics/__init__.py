"""The analytics service: read models fed by every domain topic, and tenant reports."""
