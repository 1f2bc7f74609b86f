"""Making the model go on from a plan so far: the plan is prefilled and the grammar restricts
what it writes next (a dated action it left out, the email that takes an unused result, another
tool in place of a skipped one)."""

from __future__ import annotations

import dataclasses

from pocketagent.llm.base import GenerationOptions
from pocketagent.plan.grammar import continuation_grammar
from pocketagent.plan.language import Action


def going_on(
    options: GenerationOptions,
    accepted: list[Action],
    tools: list[str],
    *,
    then: tuple[str, ...] = (),
    or_join: bool = False,
) -> GenerationOptions | None:
    """Options that prefill the plan so far and make the model write its next action with one of
    `tools` (see `continuation_grammar`); None without a grammar or when none fits."""
    if options.grammar is None:
        return None
    position = len(accepted) + 1
    grammar = continuation_grammar(options.grammar, position, tools, then=then, or_join=or_join)
    if grammar is None:
        return None
    done = "".join(action.render() + "\n" for action in accepted)
    return dataclasses.replace(options, grammar=grammar, prefill=f"{done}{position}. ")
