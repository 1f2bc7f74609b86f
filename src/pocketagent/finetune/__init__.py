"""Fine-tuning the planner: LoRA on CPU with torch, exported as a GGUF adapter for llama.cpp.

torch and transformers are needed only here (the `train` extra); nothing at run time imports
this package. Recipe: docs/recipe.md.
"""
