"""The AWS stand-in (moto and its extensions), demo worlds and synthetic snapshots.

Never imported by core, governance or graph; ``ivs demo`` imports it when it runs.

Worlds are built in one of two ways, each with its shared helpers in one module:

- as raw snapshot files, with no AWS at all: :mod:`sandbox.records` holds the records the
  ``describe_*`` calls return, one function per kind; :mod:`sandbox.raw` (hand-made
  snapshots for the tests) and :mod:`sandbox.synth` (organizations of any size for the
  benchmarks) build from them;
- in an AWS stand-in, through boto3: :mod:`sandbox.seeding` holds the ``create_*``
  requests, one helper per kind; :mod:`sandbox.network` (one account-region's VPC
  estate) and :mod:`sandbox.world` (the demo world: estates, planted mistakes and traps,
  ``aws_stand_in``) build with them, on the organization of :mod:`sandbox.organization`
  and with the calls moto lacks from :mod:`sandbox.moto_ext`.
"""
