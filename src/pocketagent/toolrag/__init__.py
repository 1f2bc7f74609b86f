"""Tool RAG: choose the tools and the worked examples a request needs before planning.

A small model reads fewer, more relevant tool descriptions faster and more accurately.
The parts: `embedder` (all-MiniLM-L6-v2, int8 ONNX, no torch), `classifier` (multi-label
head over the embeddings), `bank` (retrieval of similar training examples), `selector`
(the ``toolrag`` selector), `training` (`pocketagent toolrag train` / `eval`). `base` is
what the planner sees; importing this package loads neither numpy nor onnxruntime.
"""

from pocketagent.toolrag.base import AllToolsSelector, Selection, ToolSelector, create_selector, register_selector

__all__ = ["AllToolsSelector", "Selection", "ToolSelector", "create_selector", "register_selector"]
