"""auth entrypoints: nameko RPC and the gRPC servicer."""
