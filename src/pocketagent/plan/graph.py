"""Graph view of a plan: one node per action, one edge per `$N` dependency."""

from __future__ import annotations

import networkx as nx

from pocketagent.plan.language import Plan


def plan_graph(plan: Plan, include_join: bool = False) -> nx.DiGraph[int]:
    """A DiGraph with nodes = action ids (attribute `tool`, `args`) and edges dependency -> user.

    With `include_join`, the join node is added with an edge from every action that no
    other action depends on (the plan's sinks), the way LLMCompiler's joiner consumes them.
    """
    graph: nx.DiGraph[int] = nx.DiGraph()
    for action in plan.tool_actions:
        graph.add_node(action.id, tool=action.tool, args=action.args)
        for dep in action.dependencies:
            graph.add_edge(dep, action.id)
    if include_join:
        join = next((a for a in plan.actions if a.is_join), None)
        if join is not None:
            sinks = [n for n in graph.nodes if graph.out_degree(n) == 0]
            graph.add_node(join.id, tool=join.tool, args=())
            for sink in sinks:
                graph.add_edge(sink, join.id)
    return graph


def execution_levels(plan: Plan) -> list[list[int]]:
    """Action ids grouped by earliest possible start (level 0 = no dependencies)."""
    return [sorted(level) for level in nx.topological_generations(plan_graph(plan))]
