"""One run job: the harness (ask/tell loop, budget, shared initial design), its provenance (fingerprint of
the code and parameters that shape a result) and the anonymized view of a space an LLM may get.

May import: optimizers, benchmarks, llm, core, util.
"""
