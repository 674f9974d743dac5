"""Process-group set-up for `torchrun`: nccl on CUDA, gloo on CPU. No rank globals: a `DistInfo` is passed."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1); a plain run stays single-process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistInfo(rank=rank, local_rank=local_rank, world_size=world_size)


def local_device(device: torch.device, info: DistInfo) -> torch.device:
    return torch.device("cuda", info.local_rank) if device.type == "cuda" else device


def enable_tf32(device: torch.device) -> None:
    """float32 matmuls and convolutions on TF32 tensor cores (CUDA only). The model runs in bfloat16
    on CUDA; what stays float32 (the q head, the optimizers' math, a forward_dtype = "float32" run)
    gets ~8x the throughput for a 10-bit mantissa in the products."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def broadcast_module(module: torch.nn.Module, info: DistInfo) -> None:
    """Make every rank start from rank 0's parameters and buffers (after init or a checkpoint load)."""
    if not info.enabled:
        return
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)


def all_reduce_gradients(module: torch.nn.Module, info: DistInfo) -> None:
    """Sum gradients over ranks. The loss is already divided by the global batch, so the sum is the mean."""
    if not info.enabled:
        return
    for param in module.parameters():
        if param.grad is not None:
            dist.all_reduce(param.grad, op=dist.ReduceOp.SUM)


def all_reduce_sum(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if info.enabled:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def all_agree(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True only when every rank says True (used to stop all ranks together on a bad loss)."""
    if not info.enabled:
        return flag
    value = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())


def gather_to_main(obj: object, info: DistInfo) -> list[object] | None:
    """Every rank's `obj` as a list on rank 0 (None on the others). All ranks must call it."""
    if not info.enabled:
        return [obj]
    out: list[object] | None = [None] * info.world_size if info.is_main else None
    dist.gather_object(obj, out, dst=0)
    return out


CLOSED_KEY = "arcsolve/ranks_closed"
CLOSE_WAIT_SECONDS = 10.0


def shutdown(info: DistInfo) -> None:
    """Tear the process group down, the other ranks before rank 0. A rank destroying gloo's pairs
    while its peer still reads the last barrier's messages aborts the peer ("terminate called without
    an active exception", seen now and then on 2 CPU ranks, even after a barrier: the barrier returns
    on one rank before the other has read everything). So every rank meets at a barrier, each other
    rank closes its pairs once it is through and says so in the launcher's store, and rank 0 closes
    last (after all have said so, or after CLOSE_WAIT_SECONDS)."""
    if not (info.enabled and dist.is_initialized()):
        return
    store = dist.distributed_c10d._get_default_store()
    with contextlib.suppress(RuntimeError):  # a peer that already failed: nothing to wait for
        dist.barrier()
    if not info.is_main:
        dist.destroy_process_group()
        with contextlib.suppress(Exception):  # rank 0 then only waits out CLOSE_WAIT_SECONDS
            store.add(CLOSED_KEY, 1)
        return
    deadline = time.monotonic() + CLOSE_WAIT_SECONDS
    with contextlib.suppress(Exception):
        while store.add(CLOSED_KEY, 0) < info.world_size - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    dist.destroy_process_group()
