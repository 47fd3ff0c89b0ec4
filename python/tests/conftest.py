"""pytest setup: import layerdiff from PYTHONPATH (an installed copy) or else from python/."""
import os
import sys

sys.path.append(os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
