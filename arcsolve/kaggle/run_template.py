"""Run an arcsolve Kaggle bundle offline and write `/kaggle/working/submission.json`.

This file is copied into the bundle as `run.py`, beside the `arcsolve_kaggle_runner/` folder that
holds the logic (standard library only: arcsolve and its dependencies are installed by it). In a
notebook with internet off:

    !python /kaggle/input/<bundle>/run.py

`--help` lists the settings; the README's Kaggle section lists the steps and the exit codes.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # a Kaggle dataset is read-only, and the bundle stays as it was built
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arcsolve_kaggle_runner.main import main  # noqa: E402 - after the path entry above

if __name__ == "__main__":
    sys.exit(main())
