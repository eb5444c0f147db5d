"""The org of the incident tests: ../shared/org-sample.yaml with six more branches and their clerks, and
医保接口 incidents also paging the network on-call."""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from tests.conftest import shared
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.org import import_org

EXTRA_BRANCHES = ["JN-003", "JN-004", "JN-005", "QD-002", "QD-003", "QD-004"]
REPORTERS = ["zhang.san", "liu.yang", "ma.jing", *(f"r.{b.lower()}" for b in EXTRA_BRANCHES[:5])]  # 8 branches
LATE = f"r.{EXTRA_BRANCHES[5].lower()}"


def import_incident_org(desk: Desk, identities: Mapping[str, Mapping[str, str]] | None = None) -> Desk:
    """Import the org into the desk, with extra platform identities per person id."""
    doc = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    for person in doc["people"]:
        person["identities"].update((identities or {}).get(person["id"], {}))
    for code in EXTRA_BRANCHES:
        doc["branches"].append({"code": code, "name": f"网点{code}", "region": "SD-JN" if code < "Q" else "SD-QD"})
        doc["people"].append({"id": f"r.{code.lower()}", "name": f"柜员{code}", "role": "reporter", "branch": code,
                              "identities": {"http": f"r.{code.lower()}"}})
    for top in doc["catalog"]:
        for leaf in top["children"]:
            if leaf["name"] == "医保接口":
                leaf["page"] = ["network"]  # an incident of the insurance interface also pages the network on-call
    with desk.sessions() as session:
        import_org(session=session, doc=doc)
        session.commit()
    return desk


def file_ticket(d: Dialog, user: str, text: str) -> int:
    """A 医保 report that no article fits, filed as a ticket (业务系统 › 医保接口, urgency 2); its number."""
    reply = d.say(user, text)
    assert "请选择" in reply or "分类" in reply, reply  # no KB article: straight to the ticket dialogue
    d.say(user, "6")  # 业务系统 › 医保接口
    d.say(user, "2")
    reply = d.say(user, "客户在柜台等")
    return int(reply.split("#", 1)[1].split()[0].rstrip("，,。"))
