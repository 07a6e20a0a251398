"""The assistant: a question in, ranked guides (and, later, a grounded answer or a handoff) out."""
