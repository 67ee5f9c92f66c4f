"""Model providers (Groq, Gemini), the model registry and the router that picks between them."""
