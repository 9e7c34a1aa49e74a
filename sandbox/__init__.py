"""The AWS stand-in (moto and its extensions), demo worlds and synthetic snapshots.

Never imported by core, governance or graph; ``ivs demo`` imports it when it runs.
"""
