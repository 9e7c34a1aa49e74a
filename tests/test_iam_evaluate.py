"""The policy evaluator on AWS's documented cases (IAM User Guide, "Policy evaluation
logic", "Cross-account policy evaluation logic", "Condition operators"), and properties
that must hold whatever the policies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.iam.conditions import Context, condition_verdict, glob, operator_verdict
from graph.iam.evaluate import Applicable, Policy, Request, evaluate
from graph.iam.matching import Caller, action_matches, principal_match

A = "111111111111"
B = "222222222222"
DEV_ROLE = f"arn:aws:iam::{A}:role/dev-ci"
INSTANCE = f"arn:aws:ec2:eu-west-1:{A}:instance/i-0abc"
FULL_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **rest: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **rest}


def deny(action: Any, resource: Any = "*", **rest: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **rest}


def identity(*statements: dict[str, Any], name: str = "ci-deploy") -> Policy:
    return Policy(name, "identity", DEV_ROLE, doc(*statements))


def scp(name: str, at: str, *statements: dict[str, Any]) -> Policy:
    return Policy(name, "scp", at, doc(*statements))


def full_access(at: str) -> Policy:
    return Policy("FullAWSAccess", "scp", at, FULL_ACCESS)


def request(
    action: str = "ec2:RunInstances", resource: str | None = INSTANCE, **known: str
) -> Request:
    values = {k.lower(): (v,) for k, v in known.items()}
    return Request(
        Caller(DEV_ROLE, A),
        action,
        resource,
        context=Context(values, known=set(values)),
    )


ORG_LEVELS = ("root", "Workloads", "Workloads/NonProd", A)


def levels(**extra: list[Policy]) -> list[tuple[str, list[Policy]]]:
    """FullAWSAccess at every level of A's path, plus ``extra`` at a level (``_`` for ``/``)."""
    out = []
    for level in ORG_LEVELS:
        key = level.replace("/", "_")
        out.append((level, [full_access(level), *extra.get(key, [])]))
    return out


# ---- the IAM User Guide's cases ----------------------------------------------------------


def test_an_explicit_deny_overrides_an_allow() -> None:
    policies = Applicable(identity=[identity(allow("ec2:*"), deny("ec2:RunInstances"))])
    result = evaluate(request(), policies)
    assert result.decision == "denied"
    ((step),) = result.layers
    assert (step.layer, step.statement, step.effect) == ("identity", "Statement[1]", "deny")


def test_no_allow_is_an_implicit_deny() -> None:
    result = evaluate(request(), Applicable(identity=[identity(allow("s3:GetObject"))]))
    assert result.decision == "denied"
    assert result.layers[-1].effect == "no-match"
    # the near miss: the right action is allowed
    assert evaluate(request(), Applicable(identity=[identity(allow("ec2:Run*"))])).decision == (
        "allowed"
    )


def test_an_scp_must_allow_at_every_level_of_the_path() -> None:
    # NonProd replaced FullAWSAccess by an allow list without EC2 (AWS's "allow list" SCPs)
    path = levels()
    path[2] = ("Workloads/NonProd", [scp("allow-s3", "Workloads/NonProd", allow("s3:*"))])
    policies = Applicable(identity=[identity(allow("ec2:*"))], scp_levels=path)
    result = evaluate(request(), policies)
    assert result.decision == "denied"
    last = result.layers[-1]
    assert (last.layer, last.at, last.effect) == ("scp", "Workloads/NonProd", "no-match")
    path[2] = ("Workloads/NonProd", [scp("allow-ec2", "Workloads/NonProd", allow("ec2:*"))])
    assert evaluate(request(), policies).decision == "allowed"


def test_scps_grant_nothing_by_themselves() -> None:
    assert evaluate(request(), Applicable(scp_levels=levels())).decision == "denied"


def test_without_scp_levels_the_identity_decides() -> None:
    # the management account and service-linked roles: no SCP applies (an SCP at the root
    # denying everything would otherwise win)
    everything_denied = levels(root=[scp("deny-all", "root", deny("*"))])
    policies = Applicable(identity=[identity(allow("ec2:*"))], scp_levels=everything_denied)
    assert evaluate(request(), policies).decision == "denied"
    exempt = Applicable(identity=[identity(allow("ec2:*"))], scp_levels=[])
    assert evaluate(request(), exempt).decision == "allowed"


def test_a_permission_boundary_must_allow_too() -> None:
    boundary = Policy("dev-boundary", "boundary", DEV_ROLE, doc(allow("s3:*")))
    policies = Applicable(identity=[identity(allow("ec2:*"))], boundary=boundary)
    result = evaluate(request(), policies)
    assert result.decision == "denied"
    assert any(s.layer == "boundary" and s.effect == "no-match" for s in result.layers)
    wider = Policy("dev-boundary", "boundary", DEV_ROLE, doc(allow(["ec2:*", "s3:*"])))
    assert evaluate(request(), Applicable(identity=policies.identity, boundary=wider)).decision == (
        "allowed"
    )


REGION_DENY = {
    "Sid": "IVS03DenyOutsideAllowedRegions",
    "Effect": "Deny",
    "NotAction": ["iam:*", "sts:*", "organizations:*"],
    "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
}


@pytest.mark.parametrize(
    ("known", "decision", "depends_on"),
    [
        ({"aws:RequestedRegion": "eu-west-1"}, "allowed", ()),
        ({"aws:RequestedRegion": "ap-south-1"}, "denied", ()),
        ({}, "conditional", ("aws:requestedregion",)),
    ],
)
def test_not_action_with_a_region_condition(
    known: dict[str, str], decision: str, depends_on: tuple[str, ...]
) -> None:
    path = levels(Workloads=[scp("ivs-scp-workloads-1", "Workloads", REGION_DENY)])
    policies = Applicable(identity=[identity(allow("ec2:*"))], scp_levels=path)
    result = evaluate(request(resource=None, **known), policies)
    # without a resource, the statement on "*" still applies: only the region is unknown
    assert (result.decision, result.depends_on) == (decision, depends_on)
    if decision == "denied":
        assert result.layers[0].statement == "IVS03DenyOutsideAllowedRegions"
    # NotAction: the exempt global services are not denied whatever the region
    iam = evaluate(
        request("iam:GetRole", resource=None, **known),
        Applicable(identity=[identity(allow("iam:*"))], scp_levels=path),
    )
    assert iam.decision == "allowed"


def test_an_unknown_condition_key_makes_the_statement_conditional() -> None:
    mfa = allow("ec2:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    result = evaluate(request(), Applicable(identity=[identity(mfa)]))
    assert (result.decision, result.depends_on) == ("conditional", ("aws:multifactorauthpresent",))
    assert result.layers[0].effect == "conditional"
    # known from --context, it decides
    known = request(**{"aws:MultiFactorAuthPresent": "false"})
    assert evaluate(known, Applicable(identity=[identity(mfa)])).decision == "denied"


def test_a_deny_that_may_apply_keeps_an_allow_conditional() -> None:
    guarded = deny("ec2:RunInstances", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
    result = evaluate(request(), Applicable(identity=[identity(allow("ec2:*"), guarded)]))
    assert (result.decision, result.depends_on) == ("conditional", ("aws:sourcevpc",))


def _trust(principal: Any) -> Policy:
    target = f"arn:aws:iam::{B}:role/admin"
    document = doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
    return Policy("trust policy", "resource", target, document)


def _assume(resource_account: str = B) -> Request:
    return Request(
        Caller(DEV_ROLE, A),
        "sts:AssumeRole",
        f"arn:aws:iam::{resource_account}:role/admin",
        resource_account,
    )


@pytest.mark.parametrize(
    ("principal", "identity_allows", "decision"),
    [
        ({"AWS": f"arn:aws:iam::{A}:root"}, True, "allowed"),
        ({"AWS": f"arn:aws:iam::{A}:root"}, False, "denied"),
        ({"AWS": A}, True, "allowed"),
        ({"AWS": DEV_ROLE}, True, "allowed"),
        ({"AWS": DEV_ROLE}, False, "denied"),  # across accounts both sides must allow
        ({"AWS": f"arn:aws:iam::{B}:root"}, True, "denied"),  # trusts its own account only
        ({"Service": "ec2.amazonaws.com"}, True, "denied"),
    ],
)
def test_cross_account_trust(principal: Any, identity_allows: bool, decision: str) -> None:
    grants = [identity(allow("sts:AssumeRole"))] if identity_allows else []
    policies = Applicable(identity=grants, resource=[_trust(principal)], trust_required=True)
    assert evaluate(_assume(), policies).decision == decision


def test_within_the_account_a_trust_policy_naming_the_role_is_enough() -> None:
    same = Request(Caller(DEV_ROLE, A), "sts:AssumeRole", f"arn:aws:iam::{A}:role/admin", A)
    named = Applicable(resource=[_trust({"AWS": DEV_ROLE})], trust_required=True)
    assert evaluate(same, named).decision == "allowed"
    # naming the account delegates to the identity policies, which allow nothing here
    account = Applicable(resource=[_trust({"AWS": f"arn:aws:iam::{A}:root"})], trust_required=True)
    assert evaluate(same, account).decision == "denied"
    # an identity policy alone does not let a role be assumed: the trust must allow
    alone = Applicable(identity=[identity(allow("sts:AssumeRole"))], trust_required=True)
    assert evaluate(same, alone).decision == "denied"


def test_resource_and_not_resource() -> None:
    prod = allow("ec2:StopInstances", f"arn:aws:ec2:*:{A}:instance/*")
    assert evaluate(
        request("ec2:StopInstances"), Applicable(identity=[identity(prod)])
    ).decision == ("allowed")
    other = request("ec2:StopInstances", resource=f"arn:aws:ec2:eu-west-1:{B}:instance/i-1")
    assert evaluate(other, Applicable(identity=[identity(prod)])).decision == "denied"
    except_prod = {"Effect": "Allow", "Action": "ec2:*", "NotResource": f"arn:aws:ec2:*:{A}:*"}
    assert evaluate(request(), Applicable(identity=[identity(except_prod)])).decision == "denied"
    assert evaluate(other, Applicable(identity=[identity(except_prod)])).decision == "allowed"
    # on no resource in particular, a statement on some resources is conditional
    anywhere = evaluate(
        request("ec2:StopInstances", resource=None), Applicable(identity=[identity(prod)])
    )
    assert (anywhere.decision, anywhere.depends_on) == ("conditional", ("resource",))


# ---- condition operators ----------------------------------------------------------------

TAGS = Context(
    {"aws:principaltag/team": ("ci",), "aws:tagkeys": ("Owner", "Environment")},
    known={"aws:tagkeys"},
    known_prefixes=("aws:principaltag/",),
)


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ({"StringEquals": {"aws:PrincipalTag/team": "ci"}}, True),
        ({"StringEquals": {"aws:PrincipalTag/team": ["web", "ci"]}}, True),  # values ORed
        ({"StringEquals": {"aws:PrincipalTag/team": "CI"}}, False),
        ({"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "CI"}}, True),
        ({"StringLike": {"aws:PrincipalTag/team": "c?"}}, True),
        ({"StringNotEquals": {"aws:PrincipalTag/team": ["web", "ci"]}}, False),
        # a known absent key: false, except the negated operators, IfExists and Null
        ({"StringEquals": {"aws:PrincipalTag/owner": "x"}}, False),
        ({"StringNotEquals": {"aws:PrincipalTag/owner": "x"}}, True),
        ({"StringEqualsIfExists": {"aws:PrincipalTag/owner": "x"}}, True),
        ({"Null": {"aws:PrincipalTag/owner": "true"}}, True),
        ({"Null": {"aws:PrincipalTag/team": "true"}}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["Owner", "Environment", "Cost"]}}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["Owner"]}}, False),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["Owner"]}}, True),
        ({"ForAnyValue:StringEquals": {"aws:PrincipalTag/none": ["Owner"]}}, False),
        ({"ForAllValues:StringEquals": {"aws:PrincipalTag/none": ["Owner"]}}, True),
        # conditions of one statement are ANDed
        (
            {
                "StringEquals": {"aws:PrincipalTag/team": "ci"},
                "StringLike": {"aws:PrincipalTag/team": "w*"},
            },
            False,
        ),
    ],
)
def test_string_operators_and_absent_keys(condition: dict[str, Any], value: bool) -> None:
    assert condition_verdict(condition, TAGS).value is value


@pytest.mark.parametrize(
    ("operator", "have", "want", "value"),
    [
        ("NumericLessThan", "3", "5", True),
        ("NumericGreaterThanEquals", "3", "5", False),
        ("NumericEquals", "x", "5", False),  # not a number: no match
        ("DateGreaterThan", "2026-11-27T10:00:00Z", "2026-01-01T00:00:00Z", True),
        ("DateLessThan", "1700000000", "2026-01-01T00:00:00Z", True),  # epoch seconds
        ("Bool", "TRUE", "true", True),
        ("IpAddress", "203.0.113.9", "203.0.113.0/24", True),
        ("NotIpAddress", "203.0.113.9", "203.0.113.0/24", False),
        ("IpAddress", "2001:db8::1", "203.0.113.0/24", False),
        ("ArnLike", "arn:aws:iam::111111111111:role/dev-ci", "arn:aws:iam::*:role/dev-*", True),
        ("ArnLike", "arn:aws:iam::111111111111:role/x:y", "arn:aws:iam::*:role/*", True),
        (
            "ArnEquals",
            "arn:aws:iam::111111111111:role/dev",
            "arn:aws:iam::222222222222:role/dev",
            False,
        ),
        (
            "ArnNotLike",
            "arn:aws:iam::111111111111:role/ivs-pipeline",
            "arn:aws:iam::*:role/ivs-pipeline",
            False,
        ),
    ],
)
def test_typed_operators(operator: str, have: str, want: str, value: bool) -> None:
    context = Context({"k:key": (have,)}, known={"k:key"})
    assert operator_verdict(operator, "k:key", want, context).value is value


def test_policy_variables_come_from_the_context() -> None:
    context = Context(
        {"aws:username": ("alice",), "s3:prefix": ("home/alice/x",)},
        known={"aws:username", "s3:prefix"},
    )
    condition = {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}
    assert condition_verdict(condition, context).value is True
    unknown = Context({"s3:prefix": ("home/alice/x",)}, known={"s3:prefix"})
    assert condition_verdict(condition, unknown).keys == frozenset({"aws:username"})


def test_principals_of_a_resource_policy() -> None:
    caller = Caller(DEV_ROLE, A)
    assert principal_match("*", caller) == "any"
    assert principal_match({"AWS": DEV_ROLE}, caller) == "named"
    assert principal_match({"AWS": [f"arn:aws:iam::{A}:root"]}, caller) == "account"
    assert principal_match({"AWS": A}, caller) == "account"
    assert (
        principal_match({"AWS": f"arn:aws:iam::{A}:role/dev-*"}, caller) is None
    )  # no partial wildcards
    assert principal_match({"Service": "ec2.amazonaws.com"}, caller) is None


# ---- properties -------------------------------------------------------------------------

ACTIONS = st.sampled_from(
    ["ec2:RunInstances", "ec2:StopInstances", "iam:PassRole", "ssm:SendCommand", "s3:GetObject"]
)
PATTERNS = st.sampled_from(["*", "ec2:*", "ec2:Run*", "iam:PassRole", "ssm:*", "s3:Get*", "*:Get*"])
STATEMENTS = st.builds(
    lambda effect, action, condition: {
        "Effect": effect,
        "Action": action,
        "Resource": "*",
        **({"Condition": condition} if condition else {}),
    },
    st.sampled_from(["Allow", "Deny"]),
    st.lists(PATTERNS, min_size=1, max_size=3),
    st.sampled_from(
        [
            None,
            {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            {"StringEquals": {"aws:PrincipalAccount": A}},
        ]
    ),
)


@given(
    statements=st.lists(STATEMENTS, max_size=4),
    scp_statements=st.lists(STATEMENTS, max_size=3),
    added=STATEMENTS.map(lambda s: {**s, "Effect": "Deny"}),
    where=st.sampled_from(["identity", "scp"]),
    action=ACTIONS,
)
def test_a_deny_added_anywhere_never_turns_denied_into_allowed(
    statements: list[dict[str, Any]],
    scp_statements: list[dict[str, Any]],
    added: dict[str, Any],
    where: str,
    action: str,
) -> None:
    call = Request(
        Caller(DEV_ROLE, A),
        action,
        None,
        context=Context({"aws:principalaccount": (A,)}, known={"aws:principalaccount"}),
    )

    def decide(extra: dict[str, Any] | None) -> str:
        mine = [*statements, *([extra] if extra and where == "identity" else [])]
        guard = [*scp_statements, *([extra] if extra and where == "scp" else [])]
        path = levels(Workloads=[scp("guard", "Workloads", *guard)] if guard else [])
        return evaluate(call, Applicable(identity=[identity(*mine)], scp_levels=path)).decision

    order = {"denied": 0, "conditional": 1, "allowed": 2}
    assert order[decide(added)] <= order[decide(None)]


def _straightforward(pattern: str, text: str) -> bool:
    """Glob matching by plain recursion: ``*`` any run, ``?`` one character."""
    if not pattern:
        return not text
    if pattern[0] == "*":
        return _straightforward(pattern[1:], text) or (
            bool(text) and _straightforward(pattern, text[1:])
        )
    if text and (pattern[0] == "?" or pattern[0] == text[0]):
        return _straightforward(pattern[1:], text[1:])
    return False


@given(
    pattern=st.text(alphabet="ab*?:/.", max_size=8),
    text=st.text(alphabet="ab:/.", max_size=8),
)
def test_wildcards_match_as_a_straightforward_matcher_does(pattern: str, text: str) -> None:
    assert (glob(pattern).fullmatch(text) is not None) == _straightforward(pattern, text)
    # actions: the same, whatever the case of either side
    expected = _straightforward(pattern.lower(), text.lower())
    assert action_matches(pattern.upper(), text.lower()) == expected


def test_action_names_are_case_insensitive_resources_are_not() -> None:
    assert action_matches("EC2:runinstances", "ec2:RunInstances")
    assert not re.fullmatch(glob("arn:aws:iam::*:role/Admin").pattern, "arn:aws:iam::1:role/admin")
