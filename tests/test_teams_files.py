"""Files in Teams: the chart inline in the channel, papers through the file consent flow."""

import base64

from bot.teams.files import CONSENT_INVOKE, FILE_CONSENT, FILE_INFO, upload_allowed
from tests.conftest import CHAIR, SECRETARIAT
from tests.teams_stub import CHANNEL_ID, object_id

pytest_plugins = ("tests.teams_fixtures",)
PNG = b"\x89PNG\r\n\x1a\n"


def _consent_value(connector, card: dict, action: str = "accept") -> dict:
    return {
        "type": "fileUpload",
        "action": action,
        "context": card["content"]["acceptContext"],
        "uploadInfo": {
            "name": card["name"],
            "uploadUrl": connector.url + "upload/1",
            "contentUrl": "https://contoso.sharepoint.com/personal/report.docx",
            "uniqueId": "u-1",
            "fileType": "docx",
        },
    }


def _offer(teams, connector, person: str) -> dict:
    teams.post(teams.personal_message(object_id(person), "report quarter 2027Q1"))
    offers = [a for c in connector.sent() for a in c.body.get("attachments") or []
              if a["contentType"] == FILE_CONSENT]  # fmt: skip
    assert len(offers) == 1
    return offers[0]


def test_the_rag_chart_follows_the_summary_in_the_channel_as_an_image(teams, connector):
    teams.post(teams.channel_message(object_id(CHAIR), "rag chart"))
    summary, image = connector.sent()
    assert summary.text.startswith("RAG summary")
    assert image.path.startswith(f"/v3/conversations/{CHANNEL_ID}")
    [attachment] = image.body["attachments"]
    assert attachment["contentType"] == "image/png"
    prefix = "data:image/png;base64,"
    assert attachment["contentUrl"].startswith(prefix)
    assert base64.b64decode(attachment["contentUrl"][len(prefix) :]).startswith(PNG)


def test_a_paper_is_offered_and_uploaded_when_accepted(teams, connector):
    offer = _offer(teams, connector, SECRETARIAT)
    assert offer["name"].endswith(".docx")
    assert offer["content"]["sizeInBytes"] > 1000
    activity = teams.invoke(object_id(SECRETARIAT), "", {})
    activity["name"], activity["value"] = CONSENT_INVOKE, _consent_value(connector, offer)
    status, _ = teams.post(activity)
    assert status == 200
    [put] = [c for c in connector.calls if c.method == "PUT" and c.path == "/upload/1"]
    assert put.raw.startswith(b"PK")  # a Word file is a zip
    assert put.headers["Content-Range"] == f"bytes 0-{len(put.raw) - 1}/{len(put.raw)}"
    info = connector.sent()[-1].body["attachments"][0]
    assert info["contentType"] == FILE_INFO
    assert info["content"]["uniqueId"] == "u-1"


def test_a_declined_or_forged_offer_uploads_nothing(teams, connector):
    offer = _offer(teams, connector, SECRETARIAT)
    declined = teams.invoke(object_id(SECRETARIAT), "", {})
    declined["name"] = CONSENT_INVOKE
    declined["value"] = _consent_value(connector, offer, "decline")
    assert teams.post(declined)[0] == 200
    forged = _consent_value(connector, offer)
    forged["context"]["command"] = 'action update A-1 rag=red note="x"'
    tampered = teams.invoke(object_id(SECRETARIAT), "", {})
    tampered["name"], tampered["value"] = CONSENT_INVOKE, forged
    assert teams.post(tampered)[0] == 200
    assert not [c for c in connector.calls if c.method == "PUT"]
    assert "out of date" in connector.sent()[-1].text


def test_uploads_go_only_to_https_in_production():
    assert upload_allowed("https://contoso-my.sharepoint.com/x", allow_http=False)
    assert not upload_allowed("http://127.0.0.1:9/x", allow_http=False)
    assert not upload_allowed("http://169.254.169.254/latest", allow_http=True)
