"""Prediction: TTA views (`views`), voting and the pass@K pick (`vote`), test-time adaptation of
unseen tasks (`adapt`), the time budget (`budget`), the pipeline (`run`).

This package's import stays free of torch: the submission tools import `predict.vote` on machines
without it. Import `arcsolve.predict.run` for `run_predict`.
"""
