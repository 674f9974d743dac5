"""The Tiny Recursive Model: config, network, ACT halting, losses."""

from arcsolve.model.act import Batch, Carry, StepOutputs, act_step, evaluate_batch, initial_carry
from arcsolve.model.config import ModelConfig
from arcsolve.model.losses import METRIC_KEYS, act_loss, finalize_metrics
from arcsolve.model.trm import TRM, ParamCount, count_parameters, count_parameters_for, flops_per_example

__all__ = [
    "METRIC_KEYS",
    "TRM",
    "Batch",
    "Carry",
    "ModelConfig",
    "ParamCount",
    "StepOutputs",
    "act_loss",
    "act_step",
    "count_parameters",
    "count_parameters_for",
    "evaluate_batch",
    "finalize_metrics",
    "flops_per_example",
    "initial_carry",
]
