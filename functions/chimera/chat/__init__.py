"""One chat turn: orchestration and the wire format of its stream."""
