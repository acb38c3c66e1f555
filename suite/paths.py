"""Where the project's own files are: the one place that knows the checkout's layout."""

from pathlib import Path

# The checkout (or installed source tree) that holds suite/ and sweeps/.
PROJECT_DIR = Path(__file__).resolve().parent.parent
# The shipped sweep specs: `bench sweep NAME` looks here after the working directory.
SWEEPS_DIR = PROJECT_DIR / "sweeps"
# The results root every command uses unless told otherwise.
DEFAULT_RESULTS = "results"
# Where `bench report NAME` writes unless told otherwise: DEFAULT_REPORTS/NAME.
DEFAULT_REPORTS = "reports"
