"""/billing: plans, the tenant's subscription, invoices, provider webhooks."""
