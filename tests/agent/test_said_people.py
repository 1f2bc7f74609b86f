"""Who a text goes to, recipients by the right lookup, the link and meeting names (agent.said_people)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from pocketagent.agent.plan_guard import PlanGuard, Verdict, clause_weekday
from pocketagent.agent.said_names import said_cc, said_lists, said_reply_cc, texted_names
from pocketagent.plan.language import parse_plan
from pocketagent.tools.builtin import builtin_registry

NOW = datetime(2026, 11, 23, 10, 0, 0)  # a Monday


def _checks(request: str, plan_text: str, allow_skip: bool = True) -> list[tuple[Verdict, tuple]]:
    """(verdict, args) of each action of the plan, checked in order by a fresh guard."""
    guard = PlanGuard(request, NOW, builtin_registry(), allow_skip=allow_skip)
    results = []
    for action in parse_plan(plan_text).tool_actions:
        check = guard.check(action)
        results.append((check.verdict, (check.action or action).args))
    return results


def test_texted_names_are_read_after_the_verb() -> None:
    assert texted_names("email Grace and Tomás the agenda and text Grace that I sent it") == ["Grace"]
    assert texted_names("group text to Aylin, Deniz and Cem: brunch moved to 11") == ["Aylin", "Deniz", "Cem"]
    assert texted_names("group text Ayşe, Jan, and Nkechi: thanks") == ["Ayşe", "Jan", "Nkechi"]  # serial comma
    assert texted_names("send Mo a text saying hi") == ["Mo"]
    assert texted_names("shoot Ana and Bo a quick text that I'm late") == ["Ana", "Bo"]
    assert texted_names("text Kwame I'm outside") == ["Kwame"]
    assert texted_names("message Priya that the build is green") == ["Priya"]
    # Lower-case names count when the plan already looked them up.
    assert texted_names("email grace and tomás, text grace that I sent it", {"grace", "tomas"}) == ["grace"]


def test_texts_that_do_not_name_their_people_give_none() -> None:
    assert texted_names("text them both the link") is None
    assert texted_names("text my brother that I landed") is None
    assert texted_names("send him the Hotel confirmations note by text") is None
    assert texted_names("send the team a text") is None
    assert texted_names("email Sid the deck") is None
    # One text names people, another does not: who the second goes to is the model's call.
    assert texted_names("text Ana that I'm late and text them the address") is None


@given(st.lists(st.sampled_from(["Ana", "Bo", "Chidi", "Dana", "Émile", "Łukasz", "Wen-Hao"]), min_size=1, max_size=4, unique=True))
def test_every_name_of_a_text_list_is_read(names: list[str]) -> None:
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    assert texted_names(f"text {listed} that dinner is at 8") == names


def test_a_phone_lookup_of_someone_nobody_texts_is_skipped() -> None:
    request = "email Grace and Tomás the agenda and text Grace that I sent it"
    plan = """1. get_email_address("Grace")
2. get_email_address("Tomás")
3. get_phone_number("Grace")
4. get_phone_number("Tomás")
5. join()<END_OF_PLAN>"""
    verdicts = [verdict for verdict, _ in _checks(request, plan)]
    assert verdicts == [Verdict.ACCEPT, Verdict.ACCEPT, Verdict.ACCEPT, Verdict.SKIP]
    # Without a grammar the planner cannot make the model write something else: the lookup stays.
    assert [v for v, _ in _checks(request, plan, allow_skip=False)][-1] is Verdict.ACCEPT


def test_a_phone_lookup_of_the_wrong_person_becomes_the_texted_one() -> None:
    request = "email Ana the notes and text Bo that they are out"
    plan = '1. get_email_address("Ana")\n2. get_phone_number("Ana")\n3. join()<END_OF_PLAN>'
    (_, _), (verdict, args) = _checks(request, plan)
    assert verdict is Verdict.REPAIR and args == ("Bo",)


def test_a_request_that_asks_for_a_number_keeps_its_lookups() -> None:
    request = "what's Noor's phone number? text Ana it"
    plan = '1. get_phone_number("Noor")\n2. join()<END_OF_PLAN>'
    assert _checks(request, plan)[0][0] is Verdict.ACCEPT


def test_recipients_move_to_the_lookup_of_the_right_kind() -> None:
    request = "invite Cosmin and Leonie to the review, email them the numbers and text Cosmin that it's out"
    plan = """1. get_email_address("Cosmin")
2. get_email_address("Leonie")
3. get_phone_number("Cosmin")
4. compose_new_email(["$3", "$2"], [], "Budget", "", [])
5. send_sms(["$1"], "it's out")
6. join()<END_OF_PLAN>"""
    results = _checks(request, plan)
    assert results[3] == (Verdict.REPAIR, (["$1", "$2"], [], "Budget", "", []))
    assert results[4] == (Verdict.REPAIR, (["$3"], "it's out"))


def test_the_link_is_the_meetings_link_not_the_event() -> None:
    request = "set up a zoom with Ana friday at 2, put it on my calendar and text her the link"
    plan = """1. get_email_address("Ana")
2. get_zoom_meeting_link("Sync", "2026-11-27 14:00:00", 60, ["$1"])
3. create_calendar_event("Sync", "2026-11-27 14:00:00", "2026-11-27 15:00:00", "$2", [], "", None)
4. get_phone_number("Ana")
5. send_sms(["$4"], "$3")
6. join()<END_OF_PLAN>"""
    assert _checks(request, plan)[4] == (Verdict.REPAIR, (["$4"], "$2"))
    # Without "link" in the request the event may be what was meant.
    unsaid = request.replace("the link", "the details")
    assert _checks(unsaid, plan)[4] == (Verdict.ACCEPT, (["$4"], "$3"))


def test_a_meeting_without_a_name_is_named_for_its_people() -> None:
    request = "zoom with Farah and Jonas next tuesday at 11, put it on my Work calendar"
    plan = """1. get_email_address("Farah")
2. get_email_address("Jonas")
3. get_zoom_meeting_link("Work", "2026-12-01 11:00:00", 60, ["$1", "$2"])
4. create_calendar_event("Farah", "2026-12-01 11:00:00", "2026-12-01 12:00:00", "$3", [], "", None)
5. join()<END_OF_PLAN>"""
    results = _checks(request, plan)
    assert results[2][1][0] == "Meeting with Farah and Jonas"
    assert results[3][1][0] == "Meeting with Farah and Jonas" and results[3][1][6] == "Work"
    # A real topic stays.
    titled = plan.replace('link("Work"', 'link("Roadmap review"')
    assert _checks(request.replace("zoom", "roadmap review zoom"), titled)[2][1][0] == "Roadmap review"
    # A name the request itself gives the meeting stays, even one made of such words.
    family = "zoom for the family call sunday 6pm with Farah and Jonas, put it on the Family calendar"
    assert _checks(family, plan.replace('link("Work"', 'link("Family call"'))[2][1][0] == "Family call"


def test_each_action_gets_the_weekday_said_next_to_it() -> None:
    request = "invite Keanu to a welcome lunch monday at 12:30, and remind me sunday at 6 to print badges"
    assert clause_weekday(request, "Welcome lunch", NOW) == datetime(2026, 11, 30)
    assert clause_weekday(request, "Print badges", NOW) == datetime(2026, 11, 29)
    assert clause_weekday(request, "Something unsaid", NOW) is None
    assert clause_weekday("lunch monday and dinner tomorrow", "lunch", NOW) is None  # not only weekdays
    plan = """1. create_calendar_event("Welcome lunch", "2026-11-29 12:30:00", "2026-11-29 13:30:00", "", [], "", None)
2. create_reminder("Print badges", "2026-11-29 18:00:00", "", "", 0, False)
3. join()<END_OF_PLAN>"""
    (first, lunch), (second, badges) = _checks(request, plan)
    assert first is Verdict.REPAIR and lunch[1:3] == ("2026-11-30 12:30:00", "2026-11-30 13:30:00")
    assert second is Verdict.ACCEPT and badges[1] == "2026-11-29 18:00:00"


def test_an_email_that_sends_a_file_waits_for_the_file() -> None:
    request = "email Grace and Tomás the offsite agenda and text Grace that I sent it"
    plan = """1. get_email_address("Grace")
2. get_email_address("Tomás")
3. compose_new_email(["$1", "$2"], [], "Offsite agenda", "", [])
4. join()<END_OF_PLAN>"""
    guard = PlanGuard(request, NOW, builtin_registry())
    checks = [guard.check(a) for a in parse_plan(plan).tool_actions]
    assert checks[2].verdict is Verdict.SKIP and checks[2].instead == ("open_and_get_file_path",) and checks[2].again
    # What the email is about is not a file it sends; a summary it carries is not either.
    for about in ("email Ingrid that the contract is signed", "email Mo about the report"):
        guard = PlanGuard(about, NOW, builtin_registry())
        compose = parse_plan('1. compose_new_email(["mo@x.org"], [], "Re", "", [])\n2. join()<END_OF_PLAN>').tool_actions[0]
        assert guard.check(compose).verdict is not Verdict.SKIP
    # Forwarding sends the email at hand with its own attachments.
    guard = PlanGuard("send this email on to receipts@expensify.com, it's a lunch receipt", NOW, builtin_registry())
    forward = parse_plan('1. forward_email(["receipts@expensify.com"], [], "lunch receipt", [])\n2. join()<END_OF_PLAN>')
    assert guard.check(forward.tool_actions[0]).verdict is Verdict.ACCEPT


def test_a_bare_name_among_recipients_gets_its_lookup_first() -> None:
    request = "write booking@alpenhof.at, Svetlana and Abby an email about next week's deadline"
    plan = """1. get_email_address("Abby")
2. compose_new_email(["booking@alpenhof.at", "Svetlana", "Abby"], [], "Deadline", "", [])
3. join()<END_OF_PLAN>"""
    guard = PlanGuard(request, NOW, builtin_registry())
    lookup, compose = parse_plan(plan).tool_actions
    assert guard.check(lookup).verdict is Verdict.ACCEPT
    check = guard.check(compose)
    assert check.verdict is Verdict.SKIP
    # Svetlana is looked up in the email's place; Abby's lookup exists already and is reused.
    assert [a.render() for a in check.insert] == [
        '2. get_email_address("Svetlana")',
        '3. compose_new_email(["booking@alpenhof.at", "$2", "$1"], [], "Deadline", "", [])',
    ]
    # The inserted actions then pass the guard as they are.
    assert [guard.check(a).verdict for a in check.insert] == [Verdict.ACCEPT, Verdict.ACCEPT]


def test_texts_and_invites_look_up_their_kind_and_pronouns_or_unsaid_names_are_left() -> None:
    guard = PlanGuard("text Ana that I'm late", NOW, builtin_registry())
    check = guard.check(parse_plan('1. send_sms(["Ana"], "I\'m late")\n2. join()<END_OF_PLAN>').tool_actions[0])
    assert [a.render() for a in check.insert] == ['1. get_phone_number("Ana")', '2. send_sms(["$1"], "I\'m late")']
    guard = PlanGuard("lunch with Bo on friday at noon", NOW, builtin_registry())
    event = 'create_calendar_event("Lunch", "2026-11-27 12:00:00", "2026-11-27 13:00:00", "", ["Bo"], "", None)'
    check = guard.check(parse_plan(f"1. {event}\n2. join()<END_OF_PLAN>").tool_actions[0])
    assert check.insert[0].render() == '1. get_email_address("Bo")'
    for request, recipients in (("email me the notes", '["me"]'), ("email the team", '["Zed"]')):
        guard = PlanGuard(request, NOW, builtin_registry())
        compose = parse_plan(f'1. compose_new_email({recipients}, [], "Notes", "", [])\n2. join()<END_OF_PLAN>')
        assert guard.check(compose.tool_actions[0]).insert == ()
    # Without a grammar nothing can be inserted (the plan cannot be resumed): the guard leaves it.
    guard = PlanGuard("text Ana that I'm late", NOW, builtin_registry(), allow_skip=False)
    sms = parse_plan('1. send_sms(["Ana"], "I\'m late")\n2. join()<END_OF_PLAN>').tool_actions[0]
    assert guard.check(sms).verdict is not Verdict.SKIP


def test_lists_of_people_are_read_as_written() -> None:
    assert said_lists("group text Ayşe, Jan, and Nkechi: thanks for today!", set()) == [["Ayşe", "Jan", "Nkechi"]]
    assert said_lists("write booking@alpenhof.at, Svetlana and Abby an email", set()) == [
        ["booking@alpenhof.at", "Svetlana", "Abby"]
    ]
    assert said_lists("pass this along to Emeka and Uncle Raj, the receipt", set()) == [["Emeka", "Uncle Raj"]]
    assert said_lists("email Ana and Dr. Okafor. Then text Bo", set()) == [["Ana", "Dr. Okafor"]]
    # Lower-case names count when the plan looked them up; days and words that end a list do not.
    assert said_lists("get this over to ben, svetlana and tess", {"ben", "svetlana"}) == [["ben", "svetlana"]]
    assert said_lists("text Ana and Bo Friday works. Thanks", set()) == [["Ana", "Bo"]]
    # A list needs an "and": "Ana, Monday works" is not one; nor is a single name.
    assert said_lists("Ana, Monday works", set()) == []
    assert said_lists("text Kwame I'm outside", set()) == []


@given(st.lists(st.sampled_from(["Ana", "Bo", "Cy", "Dee Ray", "Émile", "Jan", "O'Neil"]), min_size=2, max_size=5, unique=True))
def test_every_name_of_a_said_list_is_read(names: list[str]) -> None:
    written = ", ".join(names[:-1]) + " and " + names[-1]
    assert said_lists(f"email {written} the agenda", set()) == [names]


def test_a_message_gets_everyone_of_the_list_it_took_some_of() -> None:
    request = "where's Table Mountain; group text Ayşe, Jan, and Nkechi: thanks for today!"
    plan = """1. get_phone_number("Ayşe")
2. get_phone_number("Jan")
3. send_sms(["$1", "$2"], "thanks for today!")
4. join()<END_OF_PLAN>"""
    guard = PlanGuard(request, NOW, builtin_registry())
    first, second, sms = parse_plan(plan).tool_actions
    assert guard.check(first).verdict is guard.check(second).verdict is Verdict.ACCEPT
    check = guard.check(sms)
    assert check.verdict is Verdict.SKIP and "Nkechi" in check.reason
    assert [a.render() for a in check.insert] == [
        '3. get_phone_number("Nkechi")',
        '4. send_sms(["$1", "$2", "$3"], "thanks for today!")',
    ]
    # An email to one of "Sid and Nick" when Nick was looked up already: his lookup joins it.
    results = _checks(
        "email Sid and Nick the notes",
        '1. get_email_address("Sid")\n2. get_email_address("Nick")\n'
        '3. compose_new_email(["$1"], [], "Notes", "", [])\n4. join()<END_OF_PLAN>',
    )
    assert results[2] == (Verdict.REPAIR, (["$1", "$2"], [], "Notes", "", []))


def test_lists_that_are_not_the_messages_are_left_alone() -> None:
    # Bo is on cc: not added to the recipients as well.
    results = _checks(
        "email Ana and Bo the plan, cc Bo",
        '1. get_email_address("Ana")\n2. get_email_address("Bo")\n'
        '3. compose_new_email(["$1"], ["$2"], "Plan", "", [])\n4. join()<END_OF_PLAN>',
    )
    assert results[2][0] is Verdict.ACCEPT
    # The text goes to Bo and Cy, a list that does not hold Ana: Ana's email list is not the text's.
    results = _checks(
        "email Ana and Bo the plan and text Cy that it is sent",
        '1. get_phone_number("Cy")\n2. send_sms(["$1"], "it is sent")\n3. join()<END_OF_PLAN>',
    )
    assert [verdict for verdict, _ in results] == [Verdict.ACCEPT, Verdict.ACCEPT]
    # An address of the list is never added (a text cannot go to an email address).
    results = _checks(
        "tell Jakub and jakub@example.com that I landed",
        '1. get_phone_number("Jakub")\n2. send_sms(["$1"], "I landed")\n3. join()<END_OF_PLAN>',
    )
    assert results[1][0] is Verdict.ACCEPT
    # People before the first one the message has may be a capitalised verb: never added.
    results = _checks(
        "Ask Dr. Adeyemi and Mrs. O'Neil to sign, email her that it is done",
        '1. get_email_address("Mrs. O\'Neil")\n2. compose_new_email(["$1"], [], "Form", "", [])\n3. join()<END_OF_PLAN>',
    )
    assert results[1][0] is Verdict.ACCEPT


def test_the_requests_one_cc_is_read_with_its_place() -> None:
    request = "compose an email to Minji with the new time, loop in Oscar"
    assert said_cc(request, set()) == (request.index("Oscar"), ["Oscar"])
    assert said_cc("forward this to Nerea & Papa, cc Abby and team@x.dev. Thanks", set())[1] == ["Abby", "team@x.dev"]
    assert said_cc("forward it to Oisín and cc Dr. Adeyemi. Then text Bo", set())[1] == ["Dr. Adeyemi"]
    assert said_cc("email Ana the plan, cc me", set()) is None  # nobody by name
    assert said_cc("email Ana, cc Bo, and forward it to Cy, cc Dee", set()) is None  # two: whose is which?


def test_an_email_gets_the_people_its_cc_names() -> None:
    plan = """1. get_email_address("Minji")
2. compose_new_email(["$1"], [], "New time", "the new time", [])
3. join()<END_OF_PLAN>"""
    guard = PlanGuard("compose an email to Minji with the new time, loop in Oscar", NOW, builtin_registry())
    lookup, compose = parse_plan(plan).tool_actions
    assert guard.check(lookup).verdict is Verdict.ACCEPT
    check = guard.check(compose)
    assert check.verdict is Verdict.SKIP and "Oscar on cc" in check.reason
    assert [a.render() for a in check.insert] == [
        '2. get_email_address("Oscar")',
        '3. compose_new_email(["$1"], ["$2"], "New time", "the new time", [])',
    ]
    # An address on cc goes there as written; someone already on the email is not added again.
    results = _checks(
        "forward this to Nerea and Abby, cc Abby and team@x.dev",
        '1. get_email_address("Nerea")\n2. get_email_address("Abby")\n'
        '3. forward_email(["$1"], ["$2"], "", [])\n4. join()<END_OF_PLAN>',
    )
    assert results[2] == (Verdict.REPAIR, (["$1"], ["$2", "team@x.dev"], "", []))


def test_a_cc_after_another_message_is_not_the_emails() -> None:
    results = _checks(
        "email Ana the plan, text Bo that it is done, cc Cy",
        '1. get_email_address("Ana")\n2. compose_new_email(["$1"], [], "Plan", "", [])\n3. join()<END_OF_PLAN>',
    )
    assert [verdict for verdict, _ in results] == [Verdict.ACCEPT, Verdict.ACCEPT]
    # A cc said before the email's recipients is not this email's either.
    results = _checks(
        "cc Cy on everything; email Ana the plan",
        '1. get_email_address("Ana")\n2. compose_new_email(["$1"], [], "Plan", "", [])\n3. join()<END_OF_PLAN>',
    )
    assert results[1][0] is Verdict.ACCEPT


def test_the_replys_cc_is_read_after_the_reply() -> None:
    said = "First email Sky, keep Marcus in the loop. One more thing, reply saying count me in, keep Shirin in the loop."
    assert said_reply_cc(said, set()) == ["Shirin"]
    assert said_reply_cc("answer the email I'm looking at: done by Friday, keep Father Declan in the loop", set()) == [
        "Father Declan"
    ]
    # A new message between the reply and the cc: the cc is that message's.
    assert said_reply_cc("answer this: let me check. Also compose an email to Raj and cc Rowan", set()) is None
    assert said_reply_cc("email Ana the plan, cc Bo", set()) is None  # no reply at all
    # Lowercase names count once the plan has looked them up.
    assert said_reply_cc("reply to this: sounds good, copy josé ortega", set()) is None
    assert said_reply_cc("reply to this: sounds good, copy josé ortega", {"jose", "ortega"}) == ["josé ortega"]


def test_a_reply_gets_the_people_its_cc_names() -> None:
    results = _checks(
        "reply saying count me in, keep Shirin in the loop",
        '1. get_email_address("Shirin")\n2. reply_to_email([], "count me in", [])\n3. join()<END_OF_PLAN>',
    )
    assert results[1] == (Verdict.REPAIR, (["$1"], "count me in", []))
    guard = PlanGuard("reply to this with the invoice attached and cc Beatriz", NOW, builtin_registry())
    lookup, reply = parse_plan(
        '1. open_and_get_file_path("invoice")\n2. reply_to_email([], "", ["$1"])\n3. join()<END_OF_PLAN>'
    ).tool_actions
    assert guard.check(lookup).verdict is Verdict.ACCEPT
    check = guard.check(reply)
    assert check.verdict is Verdict.SKIP and "Beatriz on cc" in check.reason
    assert [a.render() for a in check.insert] == ['2. get_email_address("Beatriz")', '3. reply_to_email(["$2"], "", ["$1"])']


def test_a_message_that_only_stands_in_for_a_result_carries_it() -> None:
    summary = '1. open_and_get_file_path("lease")\n2. summarize_pdf("$1")\n3. get_phone_number("Astrid")\n'
    results = _checks(
        "what's the gist of my lease? Also text the tl;dr to Astrid",
        summary + '4. send_sms(["$3"], "the tl;dr to Astrid")\n5. join()<END_OF_PLAN>',
    )
    assert results[3] == (Verdict.REPAIR, (["$3"], "$2"))
    # An email with no text carries the note when the request passes something on.
    note = '1. open_note("Trip to Lisbon", "")\n2. get_email_address("Ingrid")\n'
    results = _checks(
        "pull up the Trip to Lisbon note, then email that to Ingrid",
        note + '3. compose_new_email(["$2"], [], "Trip", "", [])\n4. join()<END_OF_PLAN>',
    )
    assert results[2] == (Verdict.REPAIR, (["$2"], [], "Trip", "$1", []))
    # A number the request asks for is a result too.
    results = _checks(
        "what's Noor's phone number? text it to 415-555-0199",
        '1. get_phone_number("Noor")\n2. send_sms(["415-555-0199"], "it to 415-555-0199")\n3. join()<END_OF_PLAN>',
    )
    assert results[1] == (Verdict.REPAIR, (["415-555-0199"], "$1"))


def test_a_message_with_its_own_text_or_nothing_left_to_carry_stays() -> None:
    note = '1. open_note("Trip to Lisbon", "")\n2. get_email_address("Ingrid")\n'
    for request, message in (
        # It says something of its own.
        ("pull up the Trip to Lisbon note and email Ingrid that I land at 6", '"Landing", "I land at 6", []'),
        # No text and nothing passed on.
        ("pull up the Trip to Lisbon note and email Ingrid", '"Hello", "", []'),
    ):
        results = _checks(request, note + f'3. compose_new_email(["$2"], [], {message})\n4. join()<END_OF_PLAN>')
        assert results[2][0] is Verdict.ACCEPT, request
    # No text, but a file goes with it: what it sends is the file.
    results = _checks(
        "pull up the Trip note, and send that budget pdf to Ingrid",
        note + '3. open_and_get_file_path("budget")\n4. compose_new_email(["$2"], [], "Budget", "", ["$3"])\n'
        "5. join()<END_OF_PLAN>",
    )
    assert results[3][0] is Verdict.ACCEPT
    # The note already went with the first message: the second one's "that" is not it.
    results = _checks(
        "read me the Trip note, text it to Ana and then text Bo that",
        '1. open_note("Trip", "")\n2. get_phone_number("Ana")\n3. send_sms(["$2"], "$1")\n'
        '4. get_phone_number("Bo")\n5. send_sms(["$4"], "that")\n6. join()<END_OF_PLAN>',
    )
    assert results[4][0] is Verdict.ACCEPT
