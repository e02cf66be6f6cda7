"""The notifications service's edges: nameko (events, delivery timer, RPC) and gRPC (preferences)."""
