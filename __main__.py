"""Pulumi entry point: the `org` stack or a `baseline-<account-id>` account stack."""

import pulumi

from governance.program import build_stack, spec_from_pulumi_config

build_stack(pulumi.get_stack(), spec_from_pulumi_config())
