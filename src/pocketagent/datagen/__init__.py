"""LLM-driven data generation (TinyAgent's recipe): a teacher model writes new requests and plans.

`teacher.py` builds the prompts (the planner's own rules and date line, from `agent.prompts`),
parses the replies and runs every candidate through the data layer's checks and pipeline;
`ray_runner.py` sends the same jobs as a Ray Data pipeline. It sits above `agent` (it shows the
teacher the planner's prompt) and below `cli` (`pocketagent datagen llm`); the offline generator
and the checks it shares live in `data/`.
"""
