"""The billing service's edges: nameko (RPC, events, timer) and gRPC. Each calls ``service``."""
