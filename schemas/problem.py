"""Problem specifications that travel in events.

The generator recipe is defined beside the generators in the solver library,
so that the contract and the code that interprets it cannot drift apart; this
module is where other services import it from.
"""

from solver_worker.solver.generators import GeneratorKind, GeneratorSpec

__all__ = ["GeneratorKind", "GeneratorSpec"]
