"""The lms service's edges: nameko (RPC, events) and gRPC. Each calls ``service``."""
