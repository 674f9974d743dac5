"""The Kaggle notebook runner: the standard-library-only modules behind a bundle's `run.py`.

`arcsolve kaggle bundle` copies this folder into the bundle under the same name, beside `run.py`
(a copy of `arcsolve/kaggle/run_template.py`), which puts the bundle folder on `sys.path` and calls
`main.main()`. Nothing here imports anything but the standard library, because arcsolve and its
dependencies are installed by this code. Modules:
- `common`: logging, atomic JSON writes, grid checks, exit codes;
- `challenges`: which competition and file to answer, reading it, fallbacks, checks, the score;
- `children`: every child process in its own process group, stopped on a deadline or a signal;
- `install`: import checks and the offline install of only what is missing;
- `shards`: one `arcsolve predict` per device, retries on the CPU, merging and honest counts;
- `main`: settings, the order of work, the summary and the exit code.
"""
