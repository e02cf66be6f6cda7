"""The roadmap service's edges: nameko (RPC, events) and gRPC (plus the saga runner). Each calls ``service``."""
