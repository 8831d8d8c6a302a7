"""Adapters that let the policy, guard, rag, gateway and store services act as pipeline stages."""
