"""Dataset generators. `offline` composes requests and plans from scenarios (`scenarios.py`, `pools.py`,
`timeexpr.py`, `render.py`); the LLM-driven generator (`pocketagent.datagen`, a layer above `agent`)
feeds the same `pipeline.build_dataset`."""
