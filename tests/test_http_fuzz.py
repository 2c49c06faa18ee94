"""Hostile input through the signed HTTP endpoint: never a 5xx, always an answer, a sound register.

The dispatcher-level fuzz (test_dispatch_fuzz) proves the handlers; this sends the same kinds of
text, and random interactive payloads, through Flask, bolt, the listeners and the renderer, as
Slack would (signed, form-encoded), so a crash anywhere on the way shows. Texts also mix in the
words bolt's body parser and the checks after it look for (read from bolt's source), so a word
that misroutes a request shows too.
"""

import ast
import inspect
import itertools
import json
import re
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_bolt.middleware.ssl_check import ssl_check
from slack_bolt.middleware.url_verification import url_verification
from slack_bolt.request import internals, payload_utils
from sqlmodel import Session, select

from bot.config import Settings
from bot.slack import ids as slack_ids
from bot.slack.listeners.respond import SHOWING_FAILED, SOMETHING_WENT_WRONG
from bot.slack.listeners.runtime import WORKING
from bot.slack.server import create_wsgi_app
from models.tables import ActionChange
from tests.conftest import CHAIR, NOW
from tests.fuzz_fixtures import USERS, check_invariants, composed, fuzz_engine, raw_text  # noqa: F401
from tests.slack_stub import SlackHarness, SlackStub, buttons_in, slack_settings

FORM = "application/x-www-form-urlencoded"
# 1,500 command texts, 300 forms, 600 payloads and 300 raw bodies: under a minute.
HTTP = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
COMMANDS = settings(HTTP, max_examples=1500)
BODIES = settings(HTTP, max_examples=300)
FORMS = settings(HTTP, max_examples=300)
ACTION_IDS = [getattr(slack_ids, name) for name in dir(slack_ids)
              if name.isupper() and isinstance(getattr(slack_ids, name), str)
              and getattr(slack_ids, name).startswith("soc_")]  # fmt: skip
_nonce = itertools.count()
CRASHED = {SOMETHING_WENT_WRONG, SHOWING_FAILED}
SUBMITTED: list[str] = []  # forms the form fuzz really submitted
NOTED: list[str] = []  # notes the parser-word fuzz saw saved


def parser_words() -> list[str]:
    """The words bolt's body parser and its body checks look for, from their own source."""
    words = set()
    for code in (internals.parse_body, payload_utils, ssl_check, url_verification):
        for node in ast.walk(ast.parse(inspect.getsource(code))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and re.fullmatch(r"[\w{}/.:=-]{1,40}", text):
                words.add(text)
    return sorted(words)


PARSER_WORDS = parser_words()
# What a form or JSON body is made of, and the shapes those words take in one.
PARSER_ALPHABET = '&=%+{}[]":,;/ .-_0123456789abcxyzAPL'
parser_word = st.sampled_from(PARSER_WORDS)
parser_text = st.lists(
    st.one_of(
        parser_word,
        parser_word.map(lambda w: f"{w}="),
        parser_word.map(lambda w: f"&{w}=1"),
        parser_word.map(lambda w: f'{{"{w}":'),
        parser_word.map(lambda w: f'"type": "{w}"'),
        st.text(alphabet=PARSER_ALPHABET, min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=8,
).map(" ".join)


@pytest.fixture(scope="module")
def register(fuzz_engine):  # noqa: F811
    """The shared fuzz Board's engine."""
    return fuzz_engine


@pytest.fixture(scope="module")
def http(register):
    """The real HTTP app over the shared fuzz Board, talking to a Slack stand-in."""
    stub = SlackStub().start()
    url = str(register.url)
    web_app = create_wsgi_app(slack_settings(Settings(database_url=url), stub),
                              engine=register, clock=lambda: NOW)  # fmt: skip
    yield SlackHarness(web_app, stub)
    stub.stop()


def assert_answered(http, answer, views_before: int) -> None:
    """A 200 with a message, a form opened, or (if slow) a message through the response_url."""
    assert answer.status < 500, answer.body[:500]
    assert answer.status == 200, (answer.status, answer.body[:300])
    if not answer.body:
        assert len(http.stub.calls_to("views.open")) > views_before, "no answer and no form"
        return
    message = answer.json
    assert message.get("text"), message
    assert message["text"] not in CRASHED, "an unexpected failure, not an explanation"
    if message["text"] == WORKING:
        http.stub.wait_for_path(answer.response_url.removeprefix(http.stub.base), timeout=30)


@COMMANDS
@given(
    user_id=st.sampled_from(USERS),
    text=st.one_of(raw_text, composed, parser_text),
    escape=st.booleans(),
)
def test_any_command_text_over_http_gets_an_answer(http, register, user_id, text, escape):
    views = len(http.stub.calls_to("views.open"))
    answer = http.command(user_id, text) if escape else http.command(user_id, text, as_sent=text)
    assert_answered(http, answer, views)
    check_invariants(register)


def test_the_fuzz_knows_the_parsers_words():
    assert {"payload", "ssl_check", "url_verification", "command", "{"} <= set(PARSER_WORDS)


@HTTP
@example(text="payload of leaflets delivered to partners")
@given(text=parser_text)
def test_a_note_with_the_parsers_words_is_saved_as_typed(http, register, text):
    views = len(http.stub.calls_to("views.open"))
    answer = http.command(CHAIR, f"action note A-3 {text}")
    assert_answered(http, answer, views)
    if answer.text.startswith("Updated A-3"):  # not held back as possible personal data
        with Session(register) as session:
            newest = session.exec(select(ActionChange).order_by(ActionChange.id.desc())).first()
        assert newest.note == text.strip()
        NOTED.append(text)
    check_invariants(register)


def test_the_parser_word_fuzz_really_saved_notes():
    """Runs after the note fuzz (file order): most texts were saved, not refused."""
    assert len(NOTED) > 300


users = st.sampled_from(USERS)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
refs = st.one_of(st.sampled_from(["A-1", "A-2", "A-1:1", "A-1:999", "A-12", "A-0", "x"]),
                 st.text(max_size=20))  # fmt: skip
actions = st.fixed_dictionaries(
    {"type": st.sampled_from(["button", "static_select", "datepicker", "overflow", "x"]),
     "action_id": st.one_of(st.sampled_from(ACTION_IDS), st.text(max_size=20)),
     "block_id": st.one_of(st.sampled_from(["b", "soc_actions|A-1|0|action status"]),
                           refs.map(lambda r: f"soc_actions|{r}|0|"), st.text(max_size=40)),
     "value": st.one_of(refs, st.text(max_size=60), json_values)},
    optional={"selected_option": st.fixed_dictionaries({"value": st.one_of(refs, json_values)}),
              "selected_date": st.one_of(st.sampled_from(["2027-03-31", "1999-01-01", "bad"]),
                                         json_values)},
)  # fmt: skip
clicks = st.fixed_dictionaries(
    {"type": st.just("block_actions"), "user": st.fixed_dictionaries({"id": users}),
     "actions": st.lists(actions, min_size=0, max_size=2),
     "container": st.one_of(st.just({"type": "message", "is_ephemeral": True}), json_values),
     "trigger_id": st.text(max_size=10)},
)  # fmt: skip
submissions = st.fixed_dictionaries(
    {"type": st.just("view_submission"), "user": st.fixed_dictionaries({"id": users}),
     "view": st.fixed_dictionaries(
         {"callback_id": st.one_of(st.sampled_from(ACTION_IDS), st.text(max_size=20)),
          "private_metadata": st.one_of(st.text(max_size=80), json_values.map(json.dumps)),
          "state": st.fixed_dictionaries({"values": st.dictionaries(
              st.sampled_from(["soc_field_note", "soc_field_title", "soc_field_due",
                               "soc_field_outcome", "soc_field_rag", "x"]),
              st.dictionaries(st.text(max_size=10), json_values, max_size=2), max_size=4)})})},
)  # fmt: skip
payloads = st.one_of(clicks, submissions, json_values)


@HTTP
@given(payload=payloads)
def test_any_interactive_payload_gets_a_polite_answer(http, register, payload):
    if isinstance(payload, dict):
        payload = {**payload, "team": {"id": "T0BOARD"}, "nonce": next(_nonce),
                   "response_url": http.stub.response_url()}  # fmt: skip
    # Slack never sends most of these shapes: only the status is promised (and the register).
    answer = http.post(urlencode({"payload": json.dumps(payload)}), FORM)
    assert answer.status < 500, answer.body[:500]
    check_invariants(register)


def crashes(http) -> int:
    """How many generic failure messages have been posted to response_urls so far."""
    return sum(c.data.get("text") in CRASHED for c in http.stub.calls_to("response"))


FORM_TEXT = st.one_of(raw_text, st.sampled_from(["", " ", "<!channel>", "&amp;", "*bold*"]))


@FORMS
@given(user_id=st.sampled_from(USERS), form=st.sampled_from(["edit", "add", "note", "done"]),
       title=FORM_TEXT, text=FORM_TEXT)  # fmt: skip
def test_any_text_typed_into_a_form_gets_an_explanation(http, register, user_id, form, title, text):
    http.command(CHAIR, "action update A-2 rag=amber")  # reopened, if an earlier example closed it
    crashed, opened_before = crashes(http), len(http.stub.calls_to("views.open"))
    if form in ("edit", "add"):
        opened = http.command(user_id, "action edit A-2" if form == "edit" else "action add")
        answers = {"title": title, "action": text, "barriers": text[:50], "outcomes": title}
    else:
        listing = http.command(user_id, "action status A-2")
        wanted = slack_ids.OPERATION_NOTE if form == "note" else slack_ids.OPERATION_DONE
        found = [b for b in buttons_in(listing.json.get("blocks", [])) if b["action_id"] == wanted]
        if not found:
            return  # this person may not change A-2: no button to press
        opened = http.click(user_id, found[0])
        answers = {"note": text, "outcome": text}
    assert opened.status == 200
    new = len(http.stub.calls_to("views.open")) > opened_before
    view = http.stub.view() if new else None
    if view is None or view.get("callback_id") not in (
        slack_ids.VIEW_ACTION_FORM,
        slack_ids.VIEW_NOTE,
        slack_ids.VIEW_COMPLETE,
    ):
        return  # refused before the form opened
    answer = http.submit(user_id, view, answers)
    SUBMITTED.append(form)
    assert answer.status == 200, answer.body[:300]
    if answer.body:
        assert answer.json.get("response_action") in ("errors", "update", "clear"), answer.json
    time.sleep(0.02)
    assert crashes(http) == crashed, "an unexpected failure, not an explanation"
    check_invariants(register)


def test_the_form_fuzz_really_submitted_every_kind_of_form():
    """Runs after the form fuzz (file order): it did not just skip."""
    assert {"edit", "add", "note", "done"} <= set(SUBMITTED) and len(SUBMITTED) > 100


@BODIES
@given(
    fields=st.dictionaries(st.text(max_size=12), st.text(max_size=60), max_size=6),
    raw=st.one_of(st.none(), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))),
)
def test_any_body_at_all_is_never_a_server_error(http, fields, raw):
    body = raw if raw is not None else urlencode({**fields, "nonce": next(_nonce)})
    for kind in (FORM, "application/json", "text/plain"):
        answer = http.post(body + f"&n={next(_nonce)}", kind)
        assert answer.status < 500, (kind, answer.body[:300])
