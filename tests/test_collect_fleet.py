"""The collector's fleet reads against botocore's Stubber, which checks every request and
response against the real service models: the answers moto cannot give (Security Hub not
enabled, an image id AWS no longer knows, Inspector's account status, GuardDuty's
detector settings)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from graph import collect

REGION = "eu-west-1"
ACCOUNT = "111111111111"


def client(service: str) -> Any:
    return boto3.client(
        service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
    )


def test_security_hub_not_enabled_is_an_empty_answer() -> None:
    hub = client("securityhub")
    with Stubber(hub) as stub:
        stub.add_client_error(
            "describe_hub",
            "InvalidAccessException",
            f"Account {ACCOUNT} is not subscribed to AWS Security Hub",
            403,
        )
        assert collect.security_hub(hub, {}) == {}
    with Stubber(hub) as stub:
        stub.add_client_error("describe_hub", "AccessDeniedException", "not authorized", 403)
        with pytest.raises(Exception, match="AccessDenied"):  # recorded as missing, not "off"
            collect.security_hub(hub, {})


def test_an_image_aws_no_longer_knows_is_asked_alone_and_left_out() -> None:
    ec2 = client("ec2")
    reservations = [{"Instances": [{"ImageId": "ami-gone"}, {"ImageId": "ami-live"}]}]
    live = {"ImageId": "ami-live", "OwnerId": "137112412989", "Public": True}
    with Stubber(ec2) as stub:
        stub.add_response("describe_images", {"Images": []}, {"Owners": ["self"]})
        stub.add_client_error(
            "describe_images", "InvalidAMIID.NotFound", "gone", 400,
            expected_params={"ImageIds": ["ami-gone", "ami-live"]},
        )  # fmt: skip
        stub.add_client_error(
            "describe_images", "InvalidAMIID.NotFound", "gone", 400,
            expected_params={"ImageIds": ["ami-gone"]},
        )  # fmt: skip
        stub.add_response("describe_images", {"Images": [live]}, {"ImageIds": ["ami-live"]})
        assert collect.images(ec2, {"Reservations": reservations}) == [live]
        stub.assert_no_pending_responses()


def _state(status: str) -> dict[str, str]:
    # the model makes errorCode and errorMessage required in every state
    return {"status": status, "errorCode": "ALREADY_ENABLED", "errorMessage": "none"}


def test_inspector_status_and_guardduty_detectors_as_aws_answers_them() -> None:
    inspector = client("inspector2")
    answer = {
        "accounts": [
            {
                "accountId": ACCOUNT,
                "resourceState": {"ec2": _state("ENABLED"), "ecr": _state("DISABLED")},
                "state": _state("ENABLED"),
            }
        ],
        "failedAccounts": [],
    }
    with Stubber(inspector) as stub:
        stub.add_response("batch_get_account_status", answer, {})
        assert collect.inspector_status(inspector, {}) == answer
    guardduty = client("guardduty")
    with Stubber(guardduty) as stub:
        stub.add_response("list_detectors", {"DetectorIds": ["d1"]}, {})
        stub.add_response(
            "get_detector",
            {"ServiceRole": "arn:aws:iam::111111111111:role/gd", "Status": "ENABLED"},
            {"DetectorId": "d1"},
        )
        (detector,) = collect.guardduty_detectors(guardduty, {})
    assert detector == {
        "DetectorId": "d1",
        "ServiceRole": "arn:aws:iam::111111111111:role/gd",
        "Status": "ENABLED",
    }
