"""HTTP routers. Each stays thin: authenticate, parse, call a service, encode."""
