"""Adapters from real dataset layouts (UCF Sports, ...) to vidad manifests."""
