"""The profile service's edges: nameko (RPC, events) and gRPC. Each calls ``service``."""
