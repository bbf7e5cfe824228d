"""The hardware benches import their helpers (hwsim, hw_models, tbutil) as top-level modules,
here and inside the simulator process (cocotb imports the test module by name)."""
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
