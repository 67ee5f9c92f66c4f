"""Model providers (Groq, Gemini), the model catalogue and the router that picks between them."""
