"""Import checkpoints and datasets of the reference TRM code (SamsungSAILMontreal/TinyRecursiveModels).

- `config`: the reference's `all_config.yaml` -> ModelConfig / TrainConfig;
- `checkpoint`: its state dict -> arcsolve's TRM weights, strictly checked;
- `dataset`: its dataset folder (or an arcsolve `--trm-prefix` build) -> task ids + augmentation table;
- `run_dir`: `import_trm`, which writes an arcsolve run directory atomically.
"""

from arcsolve.trm_import.run_dir import ImportSummary, import_trm

__all__ = ["ImportSummary", "import_trm"]
