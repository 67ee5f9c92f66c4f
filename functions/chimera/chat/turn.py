"""Preparing a chat turn: its conversation (taken for it, or created), title, context and prompt.

Everything that must be known before the stream starts. The conversation is taken by a lease
(one turn at a time); a client-chosen id that is new is created here, so an id someone else holds
is refused (404) before anything streams.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol

from chimera.errors import ConversationNotFound, NothingToRegenerate
from chimera.models import AnyChatRequest, ConversationContext, Principal, StoredMessage
from chimera.providers.base import PromptMessage

SYSTEM_PROMPT = "You are Chimera, a helpful assistant. Answer clearly and concisely."
TITLE_CHARS = 60


class TurnStore(Protocol):
    async def claim_turn(
        self, *, principal: Principal, conversation_id: str, turn_id: str, limit: int
    ) -> ConversationContext: ...

    async def create_conversation(
        self, *, principal: Principal, conversation_id: str, title: str, turn_id: str
    ) -> None: ...

    async def release_turn(
        self, *, principal: Principal, conversation_id: str, turn_id: str, answer_id: str | None = None
    ) -> None: ...


def title_from(message: str) -> str:
    line = " ".join(message.split())
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut + "…"


@dataclass
class Turn:
    principal: Principal
    request: AnyChatRequest
    conversation_id: str
    title: str
    create_conversation: bool  # begin_turn inserts it (a new conversation with our id)
    prompt: list[PromptMessage]
    question: str | None  # None: a regenerated answer re-answers a question already saved
    question_id: str  # the person's message this answers
    turn_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # holds the conversation
    answer_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    replaces: list[str] = field(default_factory=list)  # what a regenerated answer or an edit replaces


async def prepare_turn(store: TurnStore, principal: Principal, request: AnyChatRequest, *, history_turns: int) -> Turn:
    """Everything that must be known before the stream starts, and the conversation taken for it.

    Raises ``ConversationNotFound``, ``ConversationBusy`` while another turn is answering, or
    ``NothingToRegenerate``.
    """
    turn_id = str(uuid.uuid4())
    title = title_from(request.message or "")
    history: list[StoredMessage] = []
    create = request.conversation_id is None
    conversation_id = request.conversation_id or str(uuid.uuid4())
    if request.conversation_id is not None:
        try:
            context = await store.claim_turn(
                principal=principal,
                conversation_id=conversation_id,
                turn_id=turn_id,
                limit=history_turns,
            )
            history, title = context.messages, context.title
        except ConversationNotFound:
            if not request.names_its_conversation or request.regenerate:
                raise
            # A client-chosen id (the AI SDK's chat id) that is new: created now, so an id
            # someone else holds is refused (404) before the stream starts.
            await store.create_conversation(
                principal=principal, conversation_id=conversation_id, title=title, turn_id=turn_id
            )
    question, question_id, replaces = request.message, str(uuid.uuid4()), []
    if request.regenerate:
        asked = [i for i, m in enumerate(history) if m.role == "user"]
        if not asked:
            await store.release_turn(principal=principal, conversation_id=conversation_id, turn_id=turn_id)
            raise NothingToRegenerate(conversation_id)
        last = asked[-1]
        replaces = [m.id for m in history[last + 1 :] if m.role == "assistant"]
        question, question_id = None, history[last].id
        prompt_question, history = history[last].content, history[:last]
    else:
        assert question is not None  # the request's validator: a question unless regenerating
        prompt_question = question
        edited = next((i for i, m in enumerate(history) if m.role == "user" and m.id == request.edits), None)
        if edited is not None:  # the edited question and everything after it are kept as replaced
            replaces = [m.id for m in history[edited:]]
            history = history[:edited]
    prompt = [PromptMessage("system", SYSTEM_PROMPT)]
    prompt += [PromptMessage(m.role, m.content) for m in history if m.content]
    prompt.append(PromptMessage("user", prompt_question))
    return Turn(
        principal=principal,
        request=request,
        conversation_id=conversation_id,
        title=title,
        create_conversation=create,
        prompt=prompt,
        question=question,
        question_id=question_id,
        turn_id=turn_id,
        replaces=replaces,
    )
