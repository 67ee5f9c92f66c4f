"""Chimera: a streaming-first AI chat backend (Groq first, Gemini as fallback)."""
