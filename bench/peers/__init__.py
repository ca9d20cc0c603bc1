"""The peers benchmark: one venv per peer, the same workflow in each (see bench/peers_bench.py)."""
