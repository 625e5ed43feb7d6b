"""bridle's scripted model server: four wires, faults, invariant checks, record/replay.

`MockServer` is the entry point (`with MockServer(scenario) as srv: srv.base_url`);
`load_scenario`/`parse_scenario` read scenario files. Everything else is internal.
"""

from bridle.mock.cassette import Cassette
from bridle.mock.scenario import Fault, Scenario, Turn, load_scenario, parse_scenario
from bridle.mock.server import MockServer

__all__ = ["Cassette", "Fault", "MockServer", "Scenario", "Turn", "load_scenario", "parse_scenario"]
