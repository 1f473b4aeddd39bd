"""LLM access for the LLM optimizers: one OpenAI-protocol client, an embedded llama.cpp server, a reply cache,
prompts, output repair and history plots. Everything here is imported lazily by the LLM optimizer modules only."""
