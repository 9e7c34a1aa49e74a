"""Pulumi entry point: the `org` stack or a `baseline-<account-id>` account stack."""
