"""Who is allowed to do what: AWS's policy evaluation, offline, over collected policies.

- ``graph.iam.matching``: how Action, Resource and Principal entries match a request
  (wildcards, case);
- ``graph.iam.conditions``: the condition operators, three-valued: a condition whose key
  is not known offline is neither true nor false;
- ``graph.iam.evaluate``: one request through every layer (SCP, RCP, permission
  boundary, identity, resource policy), with the policy and statement that decided each.

The decision follows the IAM User Guide, "Policy evaluation logic" and "Cross-account
policy evaluation logic"; each module cites the page its rules come from.
"""
