"""The one AWS client factory: endpoint override, adaptive retries, member-role sessions.

Credentials come from the standard boto3 chain and are only held in memory. Every client
of ivs-governance is made here so that ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``) and
the retry policy apply everywhere alike.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_REGION = "us-east-1"

RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=10,
    read_timeout=60,
    max_pool_connections=32,
)


def error_code(err: BaseException) -> str:
    """A short code for a failed call: the AWS error code, or the botocore class name."""
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(err, BotoCoreError):
        return type(err).__name__
    return type(err).__name__


def error_message(err: BaseException) -> str:
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Message") or err)
    return str(err).splitlines()[0] if str(err) else type(err).__name__


@dataclass
class Aws:
    """Clients for one set of credentials, optionally a member account's assumed role.

    ``aws.assume("222222222222", "OrganizationAccountAccessRole")`` gives the same for a
    member account. Clients are made without any call:

    >>> ec2 = Aws(endpoint_url="http://127.0.0.1:5000").client("ec2", "eu-west-1")
    >>> ec2.meta.region_name, ec2.meta.endpoint_url
    ('eu-west-1', 'http://127.0.0.1:5000')
    """

    endpoint_url: str | None = None
    region: str = DEFAULT_REGION
    account_id: str | None = None
    session: boto3.session.Session = field(default_factory=boto3.session.Session)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.endpoint_url is None:
            self.endpoint_url = os.environ.get("AWS_ENDPOINT_URL") or None

    def __reduce__(self) -> Any:
        # A task sent to a cluster carries what to read, never whose credentials: each
        # worker builds its own Aws from its own credential chain.
        raise TypeError("an Aws holds credentials and is never pickled; send plain data")

    def config(self) -> Config:
        """The retry policy, and the account in the User-Agent (``ivs-account/<id>``) once
        it is known, so that each request says which account it reads (CloudTrail's
        userAgent, or a proxy counting requests per account)."""
        if self.account_id is None:
            return RETRY_CONFIG
        return RETRY_CONFIG.merge(Config(user_agent_extra=f"ivs-account/{self.account_id}"))

    def client(self, service: str, region: str | None = None) -> Any:
        config = self.config()
        # boto3 sessions are not thread-safe to create clients from concurrently.
        with self._lock:
            return self.session.client(
                service,
                region_name=region or self.region,
                endpoint_url=self.endpoint_url,
                config=config,
            )

    def _member_botocore_session(self) -> botocore.session.Session:
        """A new botocore session that reuses this one's parsed service models.

        A fresh session parses the service models again (~0.3 s of CPU for EC2); across
        hundreds of assumed accounts that, not the API calls, would bound an audit. The
        loader is a read-only cache.
        """
        parent = self.session._session
        member = botocore.session.Session()
        with self._lock:
            member.register_component("data_loader", parent.get_component("data_loader"))
            # boto3 appends its data path to the loader of every new Session: keep one.
            paths = parent.get_component("data_loader").search_paths
            paths[:] = list(dict.fromkeys(paths))
        return member

    def assume(self, account_id: str, role_name: str, session_name: str = "ivs-governance") -> Aws:
        """Credentials of ``role_name`` in ``account_id`` (raises ClientError when denied)."""
        sts = self.client("sts")
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}",
            RoleSessionName=session_name,
        )["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            botocore_session=self._member_botocore_session(),
        )
        return Aws(
            endpoint_url=self.endpoint_url,
            region=self.region,
            account_id=account_id,
            session=session,
        )
