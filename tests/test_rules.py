"""The rule records (graph/rules/): one registry from the family modules, bare CCM ids
written one way, and spec settings that exist."""

from __future__ import annotations

from pydantic import BaseModel

from core.spec import Spec
from core.vocabulary import ADMIN_PORTS, CCM_TITLES, DATABASE_PORTS, SEVERITIES, ccm
from graph.rules import RULES, RULES_BY_ID, fleet, hygiene, iam, internet, segmentation


def test_the_registry_is_the_families_rules() -> None:
    families = (internet, segmentation, hygiene, fleet, iam)
    assert [r.id for r in RULES] == [r.id for family in families for r in family.RULES]
    assert len(RULES_BY_ID) == len(RULES)


def test_records_hold_bare_ccm_ids_and_findings_write_them_with_ccm() -> None:
    for rule in RULES:
        assert all(not c.startswith("CCM ") and c in CCM_TITLES for c in rule.ccm), rule.id
        assert rule.controls == tuple(ccm(c) for c in rule.ccm)
    assert RULES_BY_ID["default-sg-has-rules"].controls == ("CCM IVS-04", "CCM IVS-03")


def test_severities_are_the_vocabulary_s() -> None:
    for rule in RULES:
        assert rule.severity in SEVERITIES
        if rule.narrow_source_severity is not None:
            # one level down
            below = SEVERITIES[SEVERITIES.index(rule.severity) + 1]
            assert rule.narrow_source_severity == below, rule.id


def test_each_setting_a_rule_reads_is_a_field_of_the_spec() -> None:
    for rule in RULES:
        for setting in rule.reads:
            model: type[BaseModel] = Spec
            for name in setting.split("."):
                assert name in model.model_fields, (rule.id, setting)
                model = model.model_fields[name].annotation  # type: ignore[assignment]


def test_the_port_rules_default_to_the_vocabulary_s_ports() -> None:
    spec_exposure = Spec.model_fields["exposure"].default
    assert internet.ADMIN_PORT.reads == ("exposure.admin_ports",)
    assert internet.DATABASE_PORT.reads == ("exposure.database_ports",)
    assert tuple(spec_exposure.admin_ports) == ADMIN_PORTS
    assert tuple(spec_exposure.database_ports) == DATABASE_PORTS
