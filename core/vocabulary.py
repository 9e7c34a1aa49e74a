"""Words both halves use the same way: severities, CCM control ids, policy kinds, ports.

One place for each, so that the CLI, the rules, the reports and the written policy never
spell them differently.
"""

from __future__ import annotations

from typing import Literal

# ---- severities -------------------------------------------------------------------------

Severity = Literal["critical", "high", "medium", "low"]

#: Severities, highest first.
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")

#: Severity rank, highest first; ``--fail-on`` compares with it (``none`` never fails).
SEVERITY_RANK: dict[str, int] = {"critical": 4, "high": 3, "medium": 2, "low": 1, "none": 99}


def at_or_above(severity: str, threshold: str) -> bool:
    """``severity`` is at or above ``threshold`` (``none`` is above everything).

    >>> at_or_above("high", "medium"), at_or_above("low", "medium"), at_or_above("critical", "none")
    (True, False, False)
    """
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]


# ---- CSA Cloud Controls Matrix ----------------------------------------------------------

#: CSA CCM v4 control titles: the whole IVS domain (the written policy cites it), and the
#: other ids the controls and rules name.
CCM_TITLES: dict[str, str] = {
    "IVS-01": "Infrastructure and Virtualization Security Policy and Procedures",
    "IVS-02": "Capacity and Resource Planning",
    "IVS-03": "Network Security",
    "IVS-04": "OS Hardening and Base Controls",
    "IVS-05": "Production and Non-Production Environments",
    "IVS-06": "Segmentation and Segregation",
    "IVS-07": "Migration to Cloud Environments",
    "IVS-08": "Network Architecture Documentation",
    "IVS-09": "Network Defense",
    "BCR-08": "Backup",
    "CEK-03": "Data Encryption",
    "DSP-04": "Data Classification",
    "DSP-17": "Sensitive Data Protection",
    "DSP-19": "Data Location",
    "IAM-05": "Least Privilege",
    "LOG-05": "Audit Logs Monitoring and Response",
}


def ccm(control: str) -> str:
    """A CCM id as findings and reports write it: ``IVS-03`` -> ``CCM IVS-03``.

    >>> ccm("IVS-03"), ccm("CCM IVS-03")
    ('CCM IVS-03', 'CCM IVS-03')
    """
    return control if control.startswith("CCM ") else f"CCM {control}"


def ccm_title(control: str) -> str:
    """``IVS-03 (Network Security)``, or the bare id when its title is not known."""
    bare = control.removeprefix("CCM ")
    title = CCM_TITLES.get(bare)
    return f"{bare} ({title})" if title else bare


# ---- organization policies --------------------------------------------------------------

PolicyKind = Literal["scp", "rcp", "tag", "backup", "declarative-ec2"]

#: Organizations API policy type for each kind of document.
POLICY_TYPES: dict[str, str] = {
    "scp": "SERVICE_CONTROL_POLICY",
    "rcp": "RESOURCE_CONTROL_POLICY",
    "tag": "TAG_POLICY",
    "backup": "BACKUP_POLICY",
    "declarative-ec2": "DECLARATIVE_POLICY_EC2",
}

#: What each kind of document is called in words.
POLICY_KIND_WORDS: dict[str, str] = {
    "scp": "service control policy",
    "rcp": "resource control policy",
    "tag": "tag policy",
    "backup": "backup policy",
    "declarative-ec2": "EC2 declarative policy",
}

# ---- AWS partitions --------------------------------------------------------------------

# Region prefixes of the partitions other than `aws`; longest prefix first.
_PARTITIONS = (
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
)


def partition_of(region: str) -> str:
    """The ARN partition of a region: ``aws``, ``aws-us-gov``, ``aws-cn``, ``aws-iso``...

    >>> partition_of("eu-west-1"), partition_of("us-gov-west-1"), partition_of("cn-north-1")
    ('aws', 'aws-us-gov', 'aws-cn')
    """
    for prefix, partition in _PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


# ---- ports ------------------------------------------------------------------------------

#: Remote administration: SSH, RDP, WinRM (HTTP and HTTPS).
ADMIN_PORTS: tuple[str, ...] = ("22", "3389", "5985-5986")
#: Databases and caches: SQL Server, Oracle, MySQL, PostgreSQL, Redis, OpenSearch, MongoDB.
DATABASE_PORTS: tuple[str, ...] = ("1433", "1521", "3306", "5432", "6379", "9200", "27017")
