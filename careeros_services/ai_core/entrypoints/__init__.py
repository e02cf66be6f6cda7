"""The ai_core service's edges: nameko (RPC, events) and gRPC. Each calls ``service``."""
